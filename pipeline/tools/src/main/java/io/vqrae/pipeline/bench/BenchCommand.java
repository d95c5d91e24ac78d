package io.vqrae.pipeline.bench;

import io.vqrae.pipeline.cli.CliDefaults;
import io.vqrae.pipeline.cli.InputPaths;
import io.vqrae.pipeline.cli.ModelOption;
import io.vqrae.pipeline.cli.SetOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vqrae bench}: the performance table of docs/BENCHMARKS.md (see {@link Benchmark}). */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = {"Measures where the time goes and prints it as one table (docs/BENCHMARKS.md).",
            "The parts: engine limit, decode limit against Pillow, pipeline ceiling (null model), the job's steady state"
                + " against the ideal pipelined rate, batch-1 baseline, serialization and a soak. bin/vqrae bench makes the"
                + " photos and the null model first, unless given (and never for --help)."})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOption model = new ModelOption();

    @Option(names = "--null-model", paramLabel = "DIR", description = "Null model directory (python -m vqrae.export --null).")
    Path nullModel;

    @Option(names = "--images", paramLabel = "DIR", required = true,
            description = "Photos; a python -m vqrae.formats corpus folder gives the decode part one row per format.")
    Path images;

    @Option(names = "--parts", split = ",", paramLabel = "PART",
            description = "Parts to run, comma-separated: ${COMPLETION-CANDIDATES} (default: all).")
    Set<Benchmark.Part> parts = EnumSet.allOf(Benchmark.Part.class);

    @Option(names = "--seconds", paramLabel = "N", defaultValue = "3", description = "Length of one timed measurement (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = "Alternating rounds per comparison (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--job-images", paramLabel = "N", defaultValue = "6000",
            description = "Images per job run; the first quarter is warm-up (default: ${DEFAULT-VALUE}).")
    int jobImages;

    @Option(names = "--soak-seconds", paramLabel = "N", defaultValue = "600", description = "Length of the soak (default: ${DEFAULT-VALUE}).")
    long soakSeconds;

    @Option(names = "--soak-rate", paramLabel = "IMAGES_PER_S",
            description = "Images/s the soak feeds the streaming job (default: 70 %% of part steady's rate, or 50 without it).")
    double soakRate;

    @Option(names = "--corpus-runs", paramLabel = "N", defaultValue = "20",
            description = "Consecutive tokenize-corpus runs of part corpus-runs (default: ${DEFAULT-VALUE}).")
    int corpusRuns;

    @Option(names = "--large-photos", paramLabel = "DIR", defaultValue = "/usr/share/backgrounds",
            description = "JPEG photos of several megapixels for part draft (default: ${DEFAULT-VALUE}, Debian's wallpapers).")
    Path largePhotos;

    @Option(names = "--python", paramLabel = "PATH", defaultValue = "/usr/bin/python3", description = "Python with Pillow (default: ${DEFAULT-VALUE}).")
    String python;

    /** Job config keys for every job part. */
    @Mixin
    SetOption jobSettings = new SetOption();

    @Option(names = "--report", paramLabel = "FILE", defaultValue = "out/bench.json", description = "JSON report (default: ${DEFAULT-VALUE}).")
    Path report;

    @Option(names = "--plot", paramLabel = "FILE", defaultValue = "out/bench-throughput.png",
            description = "Throughput against batch size PNG (default: ${DEFAULT-VALUE}).")
    Path plot;

    @Override
    public Integer call() throws Exception {
        InputPaths.files(spec, List.of(images)); // the inputs' rule of every command, before any measurement
        Path pythonPath = Path.of(System.getProperty(CliDefaults.HOME_PROPERTY, ".")).resolve("models").resolve("python");
        Benchmark.run(new Benchmark.Options(Path.of(model.orDefault()), nullModel, images, parts, seconds, rounds, jobImages,
                Duration.ofSeconds(soakSeconds), soakRate, corpusRuns, largePhotos, python, pythonPath, jobSettings.overrides(), report, plot), System.out);
        return 0;
    }
}
