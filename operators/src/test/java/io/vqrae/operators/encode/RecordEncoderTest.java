package io.vqrae.operators.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.FeatureTensor;
import io.vqrae.operators.data.InputMetadata;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.data.Rejection;
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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import io.vqrae.operators.metrics.MetricLabels;
import io.vqrae.operators.metrics.MetricsConfig;
import io.vqrae.operators.metrics.MetricsSpec;
import io.vqrae.operators.metrics.Scraped;
import io.vqrae.operators.report.ReportConfig;
import org.apache.flink.streaming.api.operators.co.CoProcessOperator;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Output records as consumers decode them, the dead letter for one that would not fit the sink, and dead
 * letters trimmed to fit it.
 */
class RecordEncoderTest {
    /** The job label of this test's metrics. */
    private static final String JOB = "record-encoder-test";
    private static final int TOKENS = 256;
    private static final int FEATURE_DIM = 128;

    @Test
    void tokenAndFeatureRecordsCarryTheResultAndTheModelsStamps() throws Exception {
        List<EncodedRecord> out = encode(1 << 20, tokenized("a"));
        // One element: an image's records never travel apart.
        assertThat(out).extracting(EncodedRecord::kind).containsExactly(RecordKind.TOKENS, RecordKind.FEATURES);
        assertThat(out).extracting(EncodedRecord::key).containsOnly("a");

        ModelManifest manifest = TestPaths.tinyManifest();
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
    void bothRecordsCarryWhatCameWithTheInputAndTooMuchOfItIsADeadLetter() throws Exception {
        InputMetadata metadata = new InputMetadata("{\"caption\":\"a red bus\",\"license\":\"cc-by\"}", "a red bus", "s3://photos/bus.jpg");
        List<EncodedRecord> out = encode(1 << 20, tokenized("a", Origin.of("in", 0, 42, metadata)));
        TokenRecord tokens = TokenRecord.getDecoder().decode(out.get(0).value());
        FeatureRecord features = FeatureRecord.getDecoder().decode(out.get(1).value());
        for (var record : List.of(tokens, features)) {
            assertThat(record.get("metadata")).isEqualTo("{\"caption\":\"a red bus\",\"license\":\"cc-by\"}");
            assertThat(record.get("text")).isEqualTo("a red bus");
            assertThat(record.get("source_uri")).isEqualTo("s3://photos/bus.jpg");
        }
        // Without metadata the fields are null, as in a v1 record read by today's reader.
        TokenRecord bare = TokenRecord.getDecoder().decode(encode(1 << 20, tokenized("b")).get(0).value());
        assertThat(List.of(bare.getMetadata() == null, bare.getText() == null, bare.getSourceUri() == null)).containsOnly(true);

        // One byte over limits.max-metadata-bytes: a dead letter, whatever room the record limit has.
        int limit = InputLimits.DEFAULT.maxMetadataBytes();
        InputMetadata tooMuch = new InputMetadata(null, "x".repeat(limit - "s3://b/k".length() + 1), "s3://b/k");
        assertThat(encode(1 << 24, tokenized("c", Origin.of("in", 0, 43, tooMuch)))).singleElement().satisfies(record -> {
            DeadLetterRecord dead = DeadLetterRecord.getDecoder().decode(record.value());
            assertThat(dead.getId()).isEqualTo("c");
            assertThat(dead.getReason()).isEqualTo(ReasonCode.RECORD_TOO_LARGE.code());
            assertThat(dead.getMessage()).isEqualTo("the input's metadata, text and source URI take " + (limit + 1)
                    + " bytes, more than limits.max-metadata-bytes (" + limit + ") that each of its records may carry");
            assertThat(dead.getSourceOffset()).isEqualTo(43L);
        });
        // Exactly at the limit it is written.
        InputMetadata atLimit = new InputMetadata(null, "x".repeat(limit - "s3://b/k".length()), "s3://b/k");
        assertThat(encode(1 << 24, tokenized("d", Origin.of("in", 0, 44, atLimit)))).extracting(EncodedRecord::kind)
                .containsExactly(RecordKind.TOKENS, RecordKind.FEATURES);
    }

    @Test
    void anImageWhoseFeatureRecordWouldNotFitBecomesOneDeadLetterAndNothingElse() throws Exception {
        // Token record (~0.7 KB) fits, the 64 KiB per-token float16 feature record (plus stamps) does not.
        List<EncodedRecord> out = encode(RecordLimits.MIN_RECORD_BYTES, tokenized("big"));
        assertThat(out).singleElement().satisfies(record -> {
            assertThat(record.kind()).isEqualTo(RecordKind.DEAD_LETTER);
            assertThat(record.key()).isEqualTo("big");
            DeadLetterRecord dead = DeadLetterRecord.getDecoder().decode(record.value());
            assertThat(dead.getId()).isEqualTo("big");
            assertThat(dead.getStage()).isEqualTo(FailureStage.serialize);
            assertThat(dead.getReason()).isEqualTo("record_too_large");
            assertThat(dead.getMessage()).contains("FEATURES record of").contains(RecordLimits.MIN_RECORD_BYTES + " bytes");
            assertThat(dead.getSourceTopic()).isEqualTo("in");
            assertThat(dead.getSourceOffset()).isEqualTo(42L);
        });
    }

    @Test
    void aDeadLetterOverTheLimitFirstDropsItsOriginalButKeepsItsSize() throws Exception {
        Rejection rejection = rejection("bad", "not an image", new byte[100_000]);
        DeadLetterRecord dead = encodeDeadLetter(RecordLimits.MIN_RECORD_BYTES, rejection, true);
        assertThat(dead.getOriginal()).isNull();
        assertThat(dead.getOriginalSize()).isEqualTo(100_000);
        assertThat(dead.getMessage()).isEqualTo("not an image");
        assertThat(dead.getId()).isEqualTo("bad");

        // Within the limit nothing is dropped.
        assertThat(encodeDeadLetter(1 << 20, rejection, false).getOriginal().remaining()).isEqualTo(100_000);
    }

    @Test
    void thenCutsTheMessageBetweenCharacters() throws Exception {
        // An id of 30,000 bytes counts twice (field and key); with a message of 8,000 bytes the dead letter
        // is over 64 KiB, without the message it fits.
        String id = "k".repeat(30_000);
        String message = "é".repeat(4000);
        DeadLetterRecord dead = encodeDeadLetter(RecordLimits.MIN_RECORD_BYTES, rejection(id, message, new byte[100]), true);
        assertThat(dead.getOriginal()).isNull();
        assertThat(dead.getMessage()).isNotEmpty().hasSizeLessThan(message.length());
        assertThat(message).startsWith(dead.getMessage());
        assertThat(dead.getId()).isEqualTo(id);
    }

    @Test
    void lastDropsTheIdAndKeyLeavingTheSourcePositionToIdentifyTheInput() throws Exception {
        String id = "k".repeat(70_000);
        DeadLetterRecord dead = encodeDeadLetter(RecordLimits.MIN_RECORD_BYTES, rejection(id, "unreadable", new byte[100]), true);
        assertThat(dead.getId()).isNull();
        assertThat(dead.getSourceTopic()).isEqualTo("in");
        assertThat(dead.getSourceOffset()).isEqualTo(42L);
        assertThat(dead.getReason()).isEqualTo("malformed_record");
    }

    /**
     * Encodes one rejection, checks it became one dead letter within the sink's limit, counted (and counted as
     * trimmed when {@code trimmed}), and decodes it.
     */
    private static DeadLetterRecord encodeDeadLetter(int maxRecordBytes, Rejection rejection, boolean trimmed) throws Exception {
        try (var harness = harness(maxRecordBytes)) {
            harness.processElement2(rejection, 0);
            assertThat(Scraped.counter("vqrae_dead_letters", JOB, Map.of("stage", "source", "reason", "malformed_record"))).isEqualTo(1);
            assertThat(Scraped.counter("vqrae_dead_letters_trimmed", JOB, Map.of())).isEqualTo(trimmed ? 1 : 0);
            assertThat(harness.extractOutputValues()).hasSize(1);
            assertThat(harness.extractOutputValues().get(0).features()).isNull();
            EncodedRecord record = harness.extractOutputValues().get(0).record();
            assertThat(record.kind()).isEqualTo(RecordKind.DEAD_LETTER);
            int keyBytes = record.key() == null ? 0 : record.key().getBytes(StandardCharsets.UTF_8).length;
            assertThat(keyBytes + record.value().length + RecordLimits.FRAMING_BYTES)
                    .as("record size with framing").isLessThanOrEqualTo(maxRecordBytes);
            DeadLetterRecord dead = DeadLetterRecord.getDecoder().decode(record.value());
            assertThat(record.key()).isEqualTo(dead.getId());
            return dead;
        }
    }

    /** The records of the one sample {@code image} becomes; a dead letter among them is counted. */
    private static List<EncodedRecord> encode(int maxRecordBytes, TokenizedImage image) throws Exception {
        try (var harness = harness(maxRecordBytes)) {
            harness.processElement1(image, 0);
            assertThat(harness.extractOutputValues()).hasSize(1);
            assertThat(Scraped.counter("vqrae_dead_letters", JOB, Map.of("stage", "serialize", "reason", "record_too_large")))
                    .isEqualTo(harness.extractOutputValues().get(0).records().stream().filter(r -> r.kind() == RecordKind.DEAD_LETTER).count());
            return harness.extractOutputValues().get(0).records();
        }
    }

    private static TwoInputStreamOperatorTestHarness<TokenizedImage, Rejection, EncodedSample> harness(int maxRecordBytes)
            throws Exception {
        EncoderSpec spec = new EncoderSpec(TestPaths.tinyManifest(), new RecordLimits(maxRecordBytes, maxRecordBytes, InputLimits.DEFAULT.maxMetadataBytes()),
                new MetricsSpec(MetricsConfig.OFF, MetricLabels.of(JOB, TestPaths.tinyManifest()), ReportConfig.OFF));
        var harness = new TwoInputStreamOperatorTestHarness<>(new CoProcessOperator<>(new RecordEncoder(spec)));
        harness.open();
        return harness;
    }

    private static Rejection rejection(String id, String message, byte[] input) {
        return Rejection.withOriginal(id, ReasonCode.MALFORMED_RECORD, message, input, input.length,
                Origin.of("in", 0, 42), 1_700_000_000_000L);
    }

    private static TokenizedImage tokenized(String id) {
        return tokenized(id, Origin.of("in", 0, 42));
    }

    private static TokenizedImage tokenized(String id, Origin origin) {
        int[] ids = new int[TOKENS];
        for (int t = 0; t < TOKENS; t++) {
            ids[t] = tokenId(t);
        }
        return new TokenizedImage(id, "0".repeat(64), origin, ids, 1.5f,
                new FeatureTensor(FeatureMode.PER_TOKEN, FeatureDtype.FLOAT16, new int[] {TOKENS, FEATURE_DIM},
                        new byte[TOKENS * FEATURE_DIM * 2]),
                1_700_000_000_000L);
    }

    private static int tokenId(int t) {
        return (t * 37) % TestPaths.tinyManifest().codebookSize();
    }
}
