package io.vqrae.operators.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.tokenize.FeatureMode;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FailureStage;
import io.vqrae.schemas.FeatureKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenIdType;
import io.vqrae.schemas.TokenRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.apache.flink.streaming.api.operators.co.CoStreamFlatMap;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Output records as consumers decode them, and the dead letter for one that would not fit the sink. */
class RecordEncoderTest {
    private static final int TOKENS = 256;
    private static final int FEATURE_DIM = 128;

    @Test
    void tokenAndFeatureRecordsCarryTheResultAndTheModelsStamps() throws Exception {
        List<EncodedRecord> out = encode(1 << 20, tokenized("a"));
        assertThat(out).extracting(EncodedRecord::kind).containsExactly(RecordKind.TOKENS, RecordKind.FEATURES);
        assertThat(out).extracting(EncodedRecord::key).containsOnly("a");

        ModelManifest manifest = ModelManifest.load(TestPaths.tinyModel());
        TokenRecord tokens = TokenRecord.getDecoder().decode(out.get(0).value());
        assertThat(tokens.getId()).isEqualTo("a");
        assertThat(tokens.getModelId()).isEqualTo(manifest.modelId());
        assertThat(tokens.getCodebookSha256()).isEqualTo(manifest.codebookSha256());
        assertThat(tokens.getDtype()).isEqualTo(TokenIdType.uint16);
        ByteBuffer ids = tokens.getTokenIds().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(ids.remaining()).isEqualTo(2 * TOKENS);
        for (int t = 0; t < TOKENS; t++) {
            assertThat(Short.toUnsignedInt(ids.getShort())).isEqualTo(tokenId(t));
        }
        assertThat(tokens.getSourceOffset()).isEqualTo(42L);

        FeatureRecord features = FeatureRecord.getDecoder().decode(out.get(1).value());
        assertThat(features.getKind()).isEqualTo(FeatureKind.per_token);
        assertThat(features.getShape()).containsExactly(TOKENS, FEATURE_DIM);
        assertThat(features.getDtype().name()).isEqualTo("float16");
        assertThat(features.getValues().remaining()).isEqualTo(TOKENS * FEATURE_DIM * 2);
    }

    @Test
    void anImageWhoseFeatureRecordWouldNotFitBecomesOneDeadLetterAndNothingElse() throws Exception {
        // Token record (~0.7 KB) fits, the 64 KiB per-token float16 feature record does not.
        List<EncodedRecord> out = encode(16 * 1024, tokenized("big"));
        assertThat(out).singleElement().satisfies(record -> {
            assertThat(record.kind()).isEqualTo(RecordKind.DEAD_LETTER);
            assertThat(record.key()).isEqualTo("big");
            DeadLetterRecord dead = DeadLetterRecord.getDecoder().decode(record.value());
            assertThat(dead.getId()).isEqualTo("big");
            assertThat(dead.getStage()).isEqualTo(FailureStage.serialize);
            assertThat(dead.getReason()).isEqualTo(RecordEncoder.RECORD_TOO_LARGE);
            assertThat(dead.getMessage()).contains("FEATURES record of").contains("16384 bytes");
            assertThat(dead.getSourceTopic()).isEqualTo("in");
            assertThat(dead.getSourceOffset()).isEqualTo(42L);
        });
    }

    private static List<EncodedRecord> encode(int maxRecordBytes, TokenizedImage image) throws Exception {
        EncoderOptions options = new EncoderOptions(
                TestPaths.tinyModel().toString(), FeatureMode.PER_TOKEN, FeatureDtype.FLOAT16, maxRecordBytes);
        try (var harness = new TwoInputStreamOperatorTestHarness<>(new CoStreamFlatMap<>(new RecordEncoder(options)))) {
            harness.open();
            harness.processElement1(image, 0);
            return harness.extractOutputValues();
        }
    }

    private static TokenizedImage tokenized(String id) {
        int[] ids = new int[TOKENS];
        for (int t = 0; t < TOKENS; t++) {
            ids[t] = tokenId(t);
        }
        return new TokenizedImage(id, "0".repeat(64), Origin.of("in", 0, 42), ids, 1.5f,
                new byte[TOKENS * FEATURE_DIM * 2], 1_700_000_000_000L);
    }

    private static int tokenId(int t) {
        return (t * 37) % 1024;
    }
}
