package io.vqrae.pipeline.cli;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.quality.ImageQuality;
import io.vqrae.models.render.ChwImages;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.storage.ObjectStores;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vqrae reconstruct FILE...}: each image through encoder, quantizer and decoder, written as a PNG of
 * the model-size input beside its reconstruction, with PSNR and SSIM printed per file. Decodes through the
 * job's {@link ImagePreparer}, so what it shows is what the job tokenizes.
 */
@Command(
        name = "reconstruct",
        mixinStandardHelpOptions = true,
        description = {"Encodes, quantizes and decodes image files, writing each input beside its reconstruction.",
            "One side-by-side PNG (input | reconstruction) per image, named after its id (docs/cli.md), and its PSNR and SSIM."
                + " Folders are searched recursively."})
final class ReconstructCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Mixin
    ModelOption model = new ModelOption();

    @Option(names = {"--output", "--out"}, paramLabel = "DIR", defaultValue = "out/reconstruct",
            description = "Where the PNGs go (default: ${DEFAULT-VALUE}); --out is its old name, still accepted.")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Image files or folders.")
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
    public Integer call() throws IOException, ModelLoadException {
        List<InputPaths.Input> files = InputPaths.files(spec, inputs);
        JobConfig jobConfig = config.load(Map.of(), model);
        ObjectStores.requireBuckets(List.of(jobConfig.model().dir()), jobConfig.s3());
        ModelManifest manifest = JobPlan.loadModel(jobConfig);
        ImagePreparer preparer = new ImagePreparer(manifest, jobConfig.limits());
        int height = manifest.imageHeight();
        int width = manifest.imageWidth();
        PngNames names = new PngNames(out);
        double psnrSum = 0;
        double ssimSum = 0;
        int reconstructed = 0;
        int rejected = 0;
        try (TokenizerSession encoder = TokenizerSession.open(jobConfig.model().session(manifest, 0));
                DetokenizerSession decoder = DetokenizerSession.open(jobConfig.model().session(manifest, 0))) {
            for (InputPaths.Input named : files) {
                Path file = named.path();
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(file);
                } catch (IOException e) {
                    stdout.printf("%s: rejected (%s: %s)%n", file, ReasonCode.UNREADABLE_FILE.code(), e);
                    rejected++;
                    continue;
                }
                ImagePreparer.Outcome outcome = preparer.prepare(InputImage.of(named.id(), bytes, Origin.NONE));
                if (outcome instanceof ImagePreparer.Rejected refused) {
                    stdout.printf("%s: rejected (%s: %s)%n", file, refused.rejection().reason().code(), refused.rejection().message());
                    rejected++;
                    continue;
                }
                byte[] input = ((ImagePreparer.Prepared) outcome).image().chw();
                int[] tokens = encoder.encode(List.of(input)).tokenIds(0);
                byte[] reconstruction = decoder.decode(List.of(tokens)).get(0);
                double psnr = ImageQuality.psnr(input, reconstruction);
                double ssim = ImageQuality.ssim(input, reconstruction, height, width);
                Path png = names.next(named.id());
                ChwImages.writeGrid(List.of(List.of(input, reconstruction)), height, width, png);
                stdout.printf(Locale.ROOT, "%s: PSNR %.2f dB, SSIM %.4f -> %s%n", file, psnr, ssim, png);
                psnrSum += psnr;
                ssimSum += ssim;
                reconstructed++;
            }
        }
        stderr.printf(Locale.ROOT, "%d files: %d reconstructed (mean PSNR %.2f dB, mean SSIM %.4f), %d rejected, with %s %s%n",
                reconstructed + rejected, reconstructed, reconstructed == 0 ? 0 : psnrSum / reconstructed,
                reconstructed == 0 ? 0 : ssimSum / reconstructed, rejected, manifest.modelId(), manifest.modelVersion());
        if (reconstructed == 0) {
            throw new NoUsableInputException(rejected, "above");
        }
        return 0;
    }
}
