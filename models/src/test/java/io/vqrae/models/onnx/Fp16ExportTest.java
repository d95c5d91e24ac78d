package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.models.testing.PythonReference;
import io.vqrae.models.testing.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code --fp16} export (meant for GPUs) loads and runs in ONNX Runtime, and agrees with the fp32
 * graphs of the same weights: same tokens (the quantizer stays fp32 inside), features and pixels within
 * float16 rounding.
 */
class Fp16ExportTest {
    private static final List<String> PHOTOS = List.of(
            "cvo9xd_keong_macan_srgb8.png", "u76c0g_bliznaca_srgb8.png", "flower.png.im_q85_444.jpg",
            "tmshre_riaphotographs_alpha.png");

    @TempDir
    Path fp16Model;

    @Test
    void fp16GraphsAgreeWithFp32() throws Exception {
        // The shipped model's own weights, exported again with fp16 compute.
        PythonReference.run("export", "--config", "tiny", "--checkpoint", TestPaths.tinyModel().resolve("weights.safetensors").toString(),
                "--model-version", TestPaths.tinyManifest().modelVersion(), "--out", fp16Model.toString(), "--fp16");
        ModelManifest fp16Manifest = ModelManifest.load(fp16Model);
        assertThat(fp16Manifest.graph("encoder").precision()).isEqualTo("fp16");
        assertThat(fp16Manifest.codebookSha256()).isEqualTo(ModelManifest.load(TestPaths.tinyModel()).codebookSha256());

        try (TokenizerSession fp32 = TokenizerSession.open(SessionConfig.cpu(TestPaths.tinyManifest()));
                TokenizerSession fp16 = TokenizerSession.open(SessionConfig.cpu(TestPaths.manifest(fp16Model)));
                DetokenizerSession fp32Decoder = DetokenizerSession.open(SessionConfig.cpu(TestPaths.tinyManifest()));
                DetokenizerSession fp16Decoder = DetokenizerSession.open(SessionConfig.cpu(TestPaths.manifest(fp16Model)))) {
            Preprocessor preprocessor = new Preprocessor(fp32.manifest().preprocessing());
            List<byte[]> images = new ArrayList<>();
            for (String photo : PHOTOS) {
                images.add(preprocessor.toChw(fp32.manifest().imageDecoder().build().decode(TestPaths.testImageBytes(photo))));
            }
            EncodedBatch full = fp32.encode(images);
            EncodedBatch half = fp16.encode(images);
            int same = 0;
            int total = 0;
            double maxFeatureDiff = 0;
            double maxFeature = 0;
            List<int[]> tokens = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                int[] a = full.tokenIds(i);
                int[] b = half.tokenIds(i);
                for (int t = 0; t < a.length; t++) {
                    same += a[t] == b[t] ? 1 : 0;
                    total++;
                }
                float[] fa = full.featureValues(i);
                float[] fb = half.featureValues(i);
                for (int k = 0; k < fa.length; k++) {
                    maxFeatureDiff = Math.max(maxFeatureDiff, Math.abs(fa[k] - fb[k]));
                    maxFeature = Math.max(maxFeature, Math.abs(fa[k]));
                }
                tokens.add(a);
            }
            int maxPixelDiff = maxDifference(fp32Decoder.decode(tokens), fp16Decoder.decode(tokens));
            System.out.printf("fp16 export: tokens %d/%d identical to fp32, features max abs diff %.3g (largest |feature| %.3g),"
                    + " decoder max pixel diff %d%n", same, total, maxFeatureDiff, maxFeature, maxPixelDiff);
            assertThat(same / (double) total).isGreaterThanOrEqualTo(0.99);
            // Relative to the features' scale: fp16 keeps about three decimal digits.
            assertThat(maxFeatureDiff).isLessThan(1e-2 * maxFeature);
            assertThat(maxPixelDiff).isLessThanOrEqualTo(8);
        }
    }

    private static int maxDifference(List<byte[]> a, List<byte[]> b) {
        int max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int k = 0; k < a.get(i).length; k++) {
                max = Math.max(max, Math.abs(Byte.toUnsignedInt(a.get(i)[k]) - Byte.toUnsignedInt(b.get(i)[k])));
            }
        }
        return max;
    }
}
