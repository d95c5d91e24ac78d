package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.testing.PythonReference;
import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime in Java against PyTorch on the same weights and the same uint8 input: the tiny model's
 * exported graphs must reproduce the PyTorch model they were exported from.
 */
class ModelParityTest {
    /** Photos of people, animals, plants and landscapes, PNG and JPEG, one with alpha, one EXIF-rotated. */
    private static final List<String> PHOTOS = List.of(
            "cvo9xd_keong_macan_srgb8.png", "u76c0g_bliznaca_srgb8.png", "tmshre_riaphotographs_alpha.png",
            "flower.png.im_q85_420.jpg", "flower_small.q85_444_partially_interleaved.jpg",
            "derived_exif_orientation6.jpg");
    private static final int SYNTHETIC_IMAGES = 2;

    @TempDir
    static Path work;

    private static TokenizerSession tokenizer;
    private static DetokenizerSession detokenizer;
    private static List<byte[]> inputs;
    private static EncodedBatch java;

    @BeforeAll
    static void encodeWithBothRuntimes() throws Exception {
        SessionConfig config = SessionConfig.cpu(TestPaths.tinyManifest());
        tokenizer = TokenizerSession.open(config);
        detokenizer = DetokenizerSession.open(config);
        inputs = inputs(tokenizer.manifest());
        ModelManifest m = tokenizer.manifest();
        byte[] batch = new byte[inputs.size() * m.imageBytes()];
        for (int i = 0; i < inputs.size(); i++) {
            System.arraycopy(inputs.get(i), 0, batch, i * m.imageBytes(), m.imageBytes());
        }
        Npy.uint8(batch, inputs.size(), 3, m.imageHeight(), m.imageWidth()).write(work.resolve("pixels.npy"));
        PythonReference.run("reference", "encode", "--model-dir", TestPaths.tinyModel().toString(),
                "--input", work.resolve("pixels.npy").toString(), "--out-dir", work.toString());
        java = tokenizer.encode(inputs);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        detokenizer.close();
    }

    /** Real photos preprocessed by the Java pipeline, plus noise that exercises the full uint8 range. */
    private static List<byte[]> inputs(ModelManifest manifest) throws ImageDecodeException {
        Preprocessor preprocessor = new Preprocessor(manifest.preprocessing());
        ImageDecoder decoder = manifest.imageDecoder().build();
        List<byte[]> images = new ArrayList<>();
        for (String photo : PHOTOS) {
            images.add(preprocessor.toChw(decoder.decode(TestPaths.testImageBytes(photo))));
        }
        Random random = new Random(7);
        for (int i = 0; i < SYNTHETIC_IMAGES; i++) {
            byte[] noise = new byte[manifest.imageBytes()];
            random.nextBytes(noise);
            images.add(noise);
        }
        return images;
    }

    @Test
    void featuresMatchPyTorchWithin1e4() throws IOException {
        float[] reference = Npy.read(work.resolve("features.npy")).float32();
        int perImage = java.numTokens() * java.featureDim();
        assertThat(reference).hasSize(inputs.size() * perImage);
        double maxError = 0;
        for (int i = 0; i < java.size(); i++) {
            float[] mine = java.featureValues(i);
            for (int k = 0; k < perImage; k++) {
                maxError = Math.max(maxError, Math.abs(mine[k] - reference[i * perImage + k]));
            }
        }
        System.out.printf("model parity: features max abs error %.3g over %d values%n", maxError, reference.length);
        assertThat(maxError).isLessThan(1e-4);
    }

    @Test
    void tokenIdsMatchPyTorch() throws IOException {
        int[] reference = Npy.read(work.resolve("token_ids.npy")).int64AsInt();
        float[] referenceErrors = Npy.read(work.resolve("quant_error.npy")).float32();
        int n = java.numTokens();
        int same = 0;
        double maxQuantErrorDiff = 0;
        for (int i = 0; i < java.size(); i++) {
            int[] mine = java.tokenIds(i);
            float[] errors = java.quantErrors(i);
            for (int t = 0; t < n; t++) {
                same += mine[t] == reference[i * n + t] ? 1 : 0;
                maxQuantErrorDiff = Math.max(maxQuantErrorDiff,
                        Math.abs(errors[t] - referenceErrors[i * n + t]) / Math.max(1f, Math.abs(referenceErrors[i * n + t])));
            }
        }
        double agreement = same / (double) reference.length;
        System.out.printf("model parity: token ids %d/%d identical (%.4f%%), quant error max rel diff %.3g%n",
                same, reference.length, 100 * agreement, maxQuantErrorDiff);
        assertThat(agreement).isGreaterThanOrEqualTo(0.999);
        assertThat(maxQuantErrorDiff).isLessThan(1e-3);
    }

    @Test
    void decoderMatchesPyTorchWithinOneLevel() throws Exception {
        List<int[]> tokens = new ArrayList<>();
        for (int i = 0; i < java.size(); i++) {
            tokens.add(java.tokenIds(i));
        }
        int[] flat = tokens.stream().flatMapToInt(Arrays::stream).toArray();
        Npy.int64(flat, tokens.size(), java.numTokens()).write(work.resolve("decode_in.npy"));
        Path out = Files.createDirectories(work.resolve("decoded"));
        PythonReference.run("reference", "decode", "--model-dir", TestPaths.tinyModel().toString(),
                "--input", work.resolve("decode_in.npy").toString(), "--out-dir", out.toString());
        byte[] reference = Npy.read(out.resolve("pixels.npy")).uint8();
        List<byte[]> mine = detokenizer.decode(tokens);
        int imageBytes = tokenizer.manifest().imageBytes();
        int maxDiff = 0;
        long differing = 0;
        for (int i = 0; i < mine.size(); i++) {
            for (int k = 0; k < imageBytes; k++) {
                int d = Math.abs(Byte.toUnsignedInt(mine.get(i)[k]) - Byte.toUnsignedInt(reference[i * imageBytes + k]));
                maxDiff = Math.max(maxDiff, d);
                differing += d > 0 ? 1 : 0;
            }
        }
        System.out.printf("model parity: decoder max abs pixel diff %d, %d of %d values differ%n",
                maxDiff, differing, reference.length);
        assertThat(reference).hasSize(mine.size() * imageBytes);
        assertThat(maxDiff).isLessThanOrEqualTo(1);
    }

    @Test
    void batchCompositionDoesNotChangeAnImagesTokens() {
        EncodedBatch single = tokenizer.encode(List.of(inputs.get(1)));
        assertThat(single.tokenIds(0)).containsExactly(java.tokenIds(1));
    }
}
