package io.vqrae.models.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.preprocess.PreprocessSpec;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.testing.PythonReference;
import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a data team compares: the tokens of the Java pipeline (ImageDecoder + Preprocessor + ONNX Runtime)
 * against the PyTorch reference fed by Pillow ({@code vqrae.preprocess} + {@code vqrae.reference}), on
 * real photos that Pillow saved in every format ({@code python -m vqrae.formats corpus}): JPEG (plain and
 * EXIF-rotated), PNG, BMP, GIF, lossy, lossless, alpha, animated and EXIF-rotated WebP.
 */
class FormatTokenParityTest {
    private static final int PHOTOS = Integer.getInteger("vqrae.parity.photos", 12);
    private static final int BATCH = 16;
    private static final double MIN_TOKEN_AGREEMENT = 0.999;

    @TempDir
    static Path work;

    private static ModelManifest manifest;
    private static final List<String> formats = new ArrayList<>();
    private static final List<Path> files = new ArrayList<>();
    private static byte[] javaPixels;
    private static byte[] pillowPixels;
    private static int[] javaTokens;
    private static int[] torchTokens;
    private static float[] javaDistances;
    private static float[] torchDistances;

    @BeforeAll
    static void tokenizeWithBothPipelines() throws Exception {
        Path photos = work.resolve("photos");
        PythonReference.run("formats", "corpus", "--out", photos.toString(), "--count", String.valueOf(PHOTOS));
        try (Stream<Path> folders = Files.list(photos)) {
            for (Path folder : folders.sorted().toList()) {
                try (Stream<Path> inFolder = Files.list(folder)) {
                    for (Path file : inFolder.sorted().toList()) {
                        formats.add(folder.getFileName().toString());
                        files.add(file);
                    }
                }
            }
        }
        manifest = TestPaths.tinyManifest();
        PreprocessSpec spec = manifest.preprocessing();

        List<String> args = new ArrayList<>(List.of("--size", String.valueOf(spec.height()), String.valueOf(spec.width()),
                "--filter", spec.filter().name().toLowerCase(), "--crop", spec.crop().name().toLowerCase(),
                "--out", work.resolve("pixels.npy").toString()));
        files.forEach(f -> args.add(f.toString()));
        PythonReference.run("preprocess", args.toArray(String[]::new));
        PythonReference.run("reference", "encode", "--model-dir", TestPaths.tinyModel().toString(),
                "--input", work.resolve("pixels.npy").toString(), "--out-dir", work.toString());
        pillowPixels = Npy.read(work.resolve("pixels.npy")).uint8();
        torchTokens = Npy.read(work.resolve("token_ids.npy")).int64AsInt();
        torchDistances = Npy.read(work.resolve("quant_error.npy")).float32();

        ImageDecoder decoder = manifest.imageDecoder().build();
        Preprocessor preprocessor = new Preprocessor(spec);
        List<byte[]> chw = new ArrayList<>();
        for (Path file : files) {
            chw.add(preprocessor.toChw(decoder.decode(Files.readAllBytes(file))));
        }
        javaPixels = concat(chw);
        int n = manifest.numTokens();
        javaTokens = new int[files.size() * n];
        javaDistances = new float[files.size() * n];
        try (TokenizerSession tokenizer = TokenizerSession.open(SessionConfig.cpu(manifest))) {
            for (int start = 0; start < chw.size(); start += BATCH) {
                EncodedBatch batch = tokenizer.encode(chw.subList(start, Math.min(chw.size(), start + BATCH)));
                for (int i = 0; i < batch.size(); i++) {
                    System.arraycopy(batch.tokenIds(i), 0, javaTokens, (start + i) * n, n);
                    System.arraycopy(batch.quantErrors(i), 0, javaDistances, (start + i) * n, n);
                }
            }
        }
        printTable();
    }

    @Test
    void everyFormatIsRead() {
        assertThat(formats.stream().distinct().toList()).containsExactly("bmp", "gif", "jpeg", "jpeg-exif", "png",
                "webp-alpha", "webp-animated", "webp-exif", "webp-lossless", "webp-lossy");
        assertThat(files).hasSize(10 * PHOTOS);
    }

    @Test
    void pixelsAreIdenticalToPillowInEveryFormat() {
        for (String format : formats.stream().distinct().toList()) {
            assertThat(agreement(format, javaPixels, pillowPixels, manifest.imageBytes()))
                    .as("share of preprocessed samples equal to Pillow's, " + format).isEqualTo(1.0);
        }
    }

    @Test
    void tokensAgreeWithThePyTorchReferenceInEveryFormat() {
        for (String format : formats.stream().distinct().toList()) {
            assertThat(agreement(format, javaTokens, torchTokens, manifest.numTokens()))
                    .as("share of token ids equal to the PyTorch reference's, " + format)
                    .isGreaterThanOrEqualTo(MIN_TOKEN_AGREEMENT);
        }
    }

    /**
     * With identical pixels, a token can still differ where two codes are (nearly) equally close: ONNX
     * Runtime and PyTorch sum the distance in different orders. Then both picks are equally good, which
     * is what this checks: each side's distance to its own code is the same within float32 rounding.
     */
    @Test
    void everyDifferingTokenIsANearTie() {
        for (int k = 0; k < javaTokens.length; k++) {
            if (javaTokens[k] != torchTokens[k]) {
                assertThat(relativeGap(k)).as("token " + k + " of " + files.get(k / manifest.numTokens())
                        + ": Java picked " + javaTokens[k] + ", PyTorch " + torchTokens[k]).isLessThan(1e-4);
            }
        }
    }

    private static double relativeGap(int k) {
        return Math.abs(javaDistances[k] - torchDistances[k]) / Math.max(1e-6, Math.abs(torchDistances[k]));
    }

    private static void printTable() {
        System.out.println("format parity (Java vs Pillow + PyTorch, " + PHOTOS + " photos per format, "
                + TestPaths.tinyModel().getFileName() + " model):");
        System.out.printf("  %-15s %14s %14s%n", "format", "pixels equal", "tokens equal");
        for (String format : formats.stream().distinct().toList()) {
            System.out.printf("  %-15s %13.2f%% %13.2f%%%n", format,
                    100 * agreement(format, javaPixels, pillowPixels, manifest.imageBytes()),
                    100 * agreement(format, javaTokens, torchTokens, manifest.numTokens()));
        }
        double largestGap = 0;
        int differing = 0;
        for (int k = 0; k < javaTokens.length; k++) {
            if (javaTokens[k] != torchTokens[k]) {
                differing++;
                largestGap = Math.max(largestGap, relativeGap(k));
            }
        }
        System.out.printf("  %d differing token(s); largest relative difference of their code distances %.2g%n",
                differing, largestGap);
    }

    /** The share of equal elements over the images of {@code format}, each {@code perImage} long. */
    private static double agreement(String format, Object mine, Object reference, int perImage) {
        long same = 0;
        long total = 0;
        for (int i = 0; i < files.size(); i++) {
            if (!formats.get(i).equals(format)) {
                continue;
            }
            for (int k = i * perImage; k < (i + 1) * perImage; k++) {
                boolean equal = mine instanceof byte[] a ? a[k] == ((byte[]) reference)[k] : ((int[]) mine)[k] == ((int[]) reference)[k];
                same += equal ? 1 : 0;
                total++;
            }
        }
        return same / (double) total;
    }

    private static byte[] concat(List<byte[]> images) {
        int size = images.get(0).length;
        byte[] all = new byte[images.size() * size];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(images.get(i), 0, all, i * size, size);
        }
        return all;
    }
}
