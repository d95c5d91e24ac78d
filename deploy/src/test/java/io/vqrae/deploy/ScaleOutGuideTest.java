package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.operators.tokenize.FeatureMode;
import io.vqrae.operators.tokenize.FeatureOutput;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** deploy/README.md's bandwidth and record-size table, recomputed from what the job writes and how it sizes records. */
class ScaleOutGuideTest {
    /** The guide's GPU rate (docs/BENCHMARKS.md, GPU readiness: "a GPU at 1,500 images/s"). */
    static final int IMAGES_PER_SECOND_PER_GPU = 1_500;

    @Test
    void sizingTable_isWhatFeatureOutputAndRecordLimitsGiveForSo400m256() throws IOException {
        ModelManifest so400m = ModelShapes.of("so400m-256");
        long tokenBytes = so400m.numTokens() * 2L; // uint16 ids: 16,384 codes
        List<String> expected = new ArrayList<>();
        for (FeatureMode mode : FeatureMode.values()) {
            List<FeatureDtype> dtypes = mode == FeatureMode.OFF ? List.of(FeatureDtype.FLOAT16) : List.of(FeatureDtype.values());
            for (FeatureDtype dtype : dtypes) {
                FeatureOutput features = new FeatureOutput(mode, dtype);
                long featureBytes = features.bytesPerImage(so400m);
                int recordLimit = RecordLimits.forModel(so400m, features, InputLimits.DEFAULT, 0).maxRecordBytes();
                double megabytesPerSecond = (featureBytes + tokenBytes) * IMAGES_PER_SECOND_PER_GPU / 1e6;
                expected.add(String.format(Locale.ROOT, "| %s | %s | %,d | %,d | %,.1f |",
                        mode.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                        mode == FeatureMode.OFF ? "any" : dtype.name().toLowerCase(Locale.ROOT),
                        featureBytes, recordLimit, megabytesPerSecond));
            }
        }
        List<String> rows = Files.readAllLines(Manifests.DEPLOY.resolve("README.md")).stream()
                .filter(line -> line.matches("\\| (per-token|pooled|off) \\|.*")).toList();
        assertThat(rows).containsExactlyInAnyOrderElementsOf(expected);
    }
}
