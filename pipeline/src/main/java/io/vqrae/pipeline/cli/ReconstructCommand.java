package io.vqrae.pipeline.cli;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.quality.ImageQuality;
import io.vqrae.models.render.ChwImages;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.JobPlan;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vqrae reconstruct FILE...}: each image through encoder, quantizer and decoder, written as a PNG of
 * the model-size input beside its reconstruction, with PSNR and SSIM printed per file. Decodes through the
 * job's {@link ImagePreparer}, so what it shows is what the job tokenizes.
 */
@Command(
        name = "reconstruct",
        mixinStandardHelpOptions = true,
        description = {"Encodes, quantizes and decodes image files: a side-by-side PNG (input | reconstruction)",
            "per file and its PSNR and SSIM. Folders are searched recursively."})
final class ReconstructCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory with manifest.json, local or a Flink filesystem URI (model.dir; default: the shipped tiny model).")
    String model;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "out/reconstruct", description = "Where the PNGs go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Image files or folders.")
    List<Path> inputs;

    private final PrintStream stdout;
    private final PrintStream stderr;

    ReconstructCommand() {
        this(System.out, System.err);
    }

    ReconstructCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    @Override
    public Integer call() throws IOException {
        JobConfig jobConfig = config.load(Map.of(), model);
        ModelManifest manifest = JobPlan.loadModel(jobConfig);
        ImagePreparer preparer = new ImagePreparer(manifest, jobConfig.limits());
        int height = manifest.imageHeight();
        int width = manifest.imageWidth();
        Set<String> written = new HashSet<>();
        double psnrSum = 0;
        double ssimSum = 0;
        int reconstructed = 0;
        int rejected = 0;
        try (TokenizerSession encoder = TokenizerSession.open(jobConfig.model().session(manifest, 0));
                DetokenizerSession decoder = DetokenizerSession.open(jobConfig.model().session(manifest, 0))) {
            for (Path file : TokenizeCommand.expand(inputs)) {
                ImagePreparer.Outcome outcome = preparer.prepare(InputImage.of(file.toString(), Files.readAllBytes(file), Origin.NONE));
                if (outcome instanceof ImagePreparer.Rejected refused) {
                    stdout.printf("%s: rejected (%s: %s)%n", file, refused.rejection().reason(), refused.rejection().message());
                    rejected++;
                    continue;
                }
                byte[] input = ((ImagePreparer.Prepared) outcome).image().chw();
                int[] tokens = encoder.encode(List.of(input)).tokenIds(0);
                byte[] reconstruction = decoder.decode(List.of(tokens)).get(0);
                double psnr = ImageQuality.psnr(input, reconstruction);
                double ssim = ImageQuality.ssim(input, reconstruction, height, width);
                Path png = out.resolve(uniqueName(file, written));
                ChwImages.writeGrid(List.of(List.of(input, reconstruction)), height, width, png);
                stdout.printf(Locale.ROOT, "%s: PSNR %.2f dB, SSIM %.4f -> %s%n", file, psnr, ssim, png);
                psnrSum += psnr;
                ssimSum += ssim;
                reconstructed++;
            }
        } catch (ModelLoadException e) {
            throw new ConfigException("model.dir", e.getMessage());
        }
        stderr.printf(Locale.ROOT, "%d files: %d reconstructed (mean PSNR %.2f dB, mean SSIM %.4f), %d rejected, with %s %s%n",
                reconstructed + rejected, reconstructed, reconstructed == 0 ? 0 : psnrSum / reconstructed,
                reconstructed == 0 ? 0 : ssimSum / reconstructed, rejected, manifest.modelId(), manifest.modelVersion());
        return 0;
    }

    /** {@code NAME.png}, or {@code NAME-2.png}... when files of the same name came from other folders. */
    private static String uniqueName(Path file, Set<String> written) {
        String base = OutputNames.safe(file.getFileName().toString());
        String name = base + ".png";
        for (int n = 2; !written.add(name); n++) {
            name = base + "-" + n + ".png";
        }
        return name;
    }
}
