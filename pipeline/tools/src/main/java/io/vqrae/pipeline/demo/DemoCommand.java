package io.vqrae.pipeline.demo;

import io.vqrae.pipeline.cli.InputPaths;
import io.vqrae.pipeline.cli.ModelOption;
import io.vqrae.pipeline.cli.NoUsableInputException;
import io.vqrae.pipeline.cli.SetOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vqrae demo}: the whole pipeline on an embedded broker and a local MiniCluster. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the whole pipeline on an embedded Kafka broker and a local Flink MiniCluster.",
            "Starts an in-JVM KRaft broker, loads images into the input topic, runs the streaming job with checkpointing,"
                + " reads the outputs back read_committed and prints a summary. Exits 1 when no image was tokenized"
                + " (docs/cli.md)."
        })
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--images", paramLabel = "DIR", description = "Folder of images to load (default: generated sample scenes plus three broken files).")
    Path images;

    @Mixin
    ModelOption model = new ModelOption();

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the summary as JSON here.")
    Path report;

    @Option(names = "--preview", paramLabel = "FILE", defaultValue = "out/demo-preview.png",
            description = "Reconstruction preview PNG: originals above decoder reconstructions (default: ${DEFAULT-VALUE}).")
    Path preview;

    @Option(names = "--codebook-plot", paramLabel = "FILE", defaultValue = "out/demo-codebook.png",
            description = "Codebook-usage plot PNG: each code's count, sorted (default: ${DEFAULT-VALUE}).")
    Path codebookPlot;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "24", description = "Generated samples when --images is not given (default: ${DEFAULT-VALUE}).")
    int samples;

    @Mixin
    SetOption overrides = new SetOption();

    @Override
    public Integer call() throws Exception {
        if (images != null) {
            InputPaths.files(spec, List.of(images)); // the inputs' rule of every command, before the broker starts
        }
        DemoReport result = DemoRunner.run(new DemoRunner.Options(images, Path.of(model.orDefault()), preview, codebookPlot, samples, overrides.overrides()));
        System.out.print(result.summary());
        if (report != null) {
            result.writeJson(report);
            System.out.println("report:               " + report);
        }
        if (result.tokenRecords() == 0) {
            throw new NoUsableInputException(result.imagesIn(), "in the dead letters above");
        }
        return 0;
    }
}
