package io.vqrae.operators.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.operators.tokenize.FeatureMode;
import io.vqrae.operators.tokenize.FeatureOutput;
import org.junit.jupiter.api.Test;

class RecordLimitsTest {
    private static final ModelManifest TINY = TestPaths.tinyManifest();
    private static final int MIB = 1024 * 1024;

    @Test
    void recordsAreSizedForTheLargestPayloadPlusHeadroomAndNeverBelowKafkasDefault() {
        // tiny: 256 tokens x 128 dims; float32 per-token features are 128 KiB, under Kafka's 1 MiB.
        assertThat(RecordLimits.forModel(TINY, new FeatureOutput(FeatureMode.PER_TOKEN, FeatureDtype.FLOAT32), InputLimits.DEFAULT, 0)
                .maxRecordBytes()).isEqualTo(MIB);
        // A dead letter keeping 4 MiB of its input is then the largest record.
        InputLimits keepMore = InputLimits.DEFAULT.with(limits -> limits.maxImageBytes(32 * MIB).deadLetterMaxOriginalBytes(4 * MIB));
        assertThat(RecordLimits.forModel(TINY, FeatureOutput.DEFAULT, keepMore, 0).maxRecordBytes())
                .isEqualTo(4 * MIB + RecordLimits.HEADROOM_BYTES);
        // The input topic takes the largest accepted image.
        assertThat(RecordLimits.forModel(TINY, FeatureOutput.DEFAULT, keepMore, 0).maxInputRecordBytes())
                .isEqualTo(32 * MIB + RecordLimits.HEADROOM_BYTES);
        // Configured, it is taken as it is.
        assertThat(RecordLimits.forModel(TINY, FeatureOutput.DEFAULT, InputLimits.DEFAULT, 200_000).maxRecordBytes()).isEqualTo(200_000);
    }

    @Test
    void theMetadataAnInputMayBringCountsTowardTheRecordLimit() {
        // 128 KiB of float32 per-token features and 2 MiB of metadata: above Kafka's 1 MiB, so both count.
        InputLimits moreMetadata = InputLimits.DEFAULT.with(l -> l.maxImageBytes(32 * MIB).maxMetadataBytes(2 * MIB));
        RecordLimits limits = RecordLimits.forModel(TINY, new FeatureOutput(FeatureMode.PER_TOKEN, FeatureDtype.FLOAT32), moreMetadata, 0);
        assertThat(limits.maxRecordBytes()).isEqualTo(256 * 128 * 4 + 2 * MIB + RecordLimits.HEADROOM_BYTES);
        assertThat(limits.maxMetadataBytes()).isEqualTo(2 * MIB);
        assertThat(limits.cappedAt(MIB).maxMetadataBytes()).isEqualTo(2 * MIB);
        assertThat(InputLimits.DEFAULT.maxMetadataBytes()).isEqualTo(64 * 1024);
        assertThatThrownBy(() -> new InputLimits(InputLimits.DEFAULT.maxPixels(), MIB, 0, false, InputLimits.MAX_METADATA_BYTES_LIMIT + 1))
                .hasMessageContaining("max-metadata-bytes");
    }

    @Test
    void anExistingSmallerTopicCapsTheLimitAndWhatADeadLetterCanKeep() {
        RecordLimits capped = RecordLimits.forModel(TINY, FeatureOutput.DEFAULT, InputLimits.DEFAULT, 0).cappedAt(300_000);
        assertThat(capped.maxRecordBytes()).isEqualTo(300_000);
        assertThat(capped.maxOriginalBytes()).isEqualTo(300_000 - RecordLimits.HEADROOM_BYTES);
        assertThat(capped.fits(300_000 - RecordLimits.FRAMING_BYTES)).isTrue();
        assertThat(capped.fits(300_000 - RecordLimits.FRAMING_BYTES + 1)).isFalse();
        assertThatThrownBy(() -> capped.cappedAt(RecordLimits.MIN_RECORD_BYTES - 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Integer.toString(RecordLimits.MIN_RECORD_BYTES));
    }
}
