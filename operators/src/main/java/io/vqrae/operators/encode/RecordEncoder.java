package io.vqrae.operators.encode;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.tokenize.FeatureMode;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FailureStage;
import io.vqrae.schemas.FeatureKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.FeatureValueType;
import io.vqrae.schemas.TokenIdType;
import io.vqrae.schemas.TokenRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.RichCoFlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Turns tokenizer results into {@code TokenRecord} + {@code FeatureRecord} and rejections into
 * {@code DeadLetterRecord}, serialized with Avro single-object encoding (schema fingerprint header, no
 * registry needed).
 *
 * <p>Every input ends as either its token record (and feature record unless features are off) or exactly
 * one dead letter: if either output of an image would exceed the sink's record limit, neither is written
 * and the image is dead-lettered with reason {@value #RECORD_TOO_LARGE}.
 *
 * <p>Dead letters must fit as well: one the sink refuses would fail the job again on every replay. A dead
 * letter over the limit sheds detail in the order a reader can best do without it: first
 * {@code original} (its {@code original_size} stays, and the input is still at its source position), then
 * the end of {@code message}, and last the id, both as field and key (the source topic, partition and
 * offset still identify the input).
 */
public final class RecordEncoder extends RichCoFlatMapFunction<TokenizedImage, Rejection, EncodedRecord> {
    private static final long serialVersionUID = 1L;

    /** Reason code for an image whose output record would not fit in the sink. */
    public static final String RECORD_TOO_LARGE = "record_too_large";

    /**
     * Bytes reserved for a record's framing inside a Kafka batch (batch header, varint lengths, offsets,
     * timestamp), so a record passing this check also passes the producer's own size estimate.
     */
    static final int RECORD_OVERHEAD_BYTES = 512;

    /** Dead-letter messages are for people; cap them so a pathological message cannot grow a record. */
    private static final int MAX_MESSAGE_CHARS = 4096;

    private final EncoderOptions options;

    private transient ModelManifest manifest;
    private transient TokenIdType tokenIdType;
    private transient Counter oversizeRecords;
    private transient Counter trimmedDeadLetters;

    public RecordEncoder(EncoderOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        manifest = ModelManifest.load(Path.of(options.modelDir()));
        tokenIdType = TokenIds.typeFor(manifest.codebookSize());
        var metrics = getRuntimeContext().getMetricGroup().addGroup("vqrae").addGroup("encode");
        oversizeRecords = metrics.counter("oversizeRecords");
        trimmedDeadLetters = metrics.counter("trimmedDeadLetters");
    }

    @Override
    public void flatMap1(TokenizedImage result, Collector<EncodedRecord> out) {
        EncodedRecord tokens = new EncodedRecord(RecordKind.TOKENS, result.id(), SingleObjectEncoding.toBytes(TokenRecord.getEncoder(), tokenRecord(result)));
        EncodedRecord features = result.features() == null
                ? null
                : new EncodedRecord(RecordKind.FEATURES, result.id(), SingleObjectEncoding.toBytes(FeatureRecord.getEncoder(), featureRecord(result)));
        EncodedRecord tooLarge = !fits(tokens) ? tokens : features != null && !fits(features) ? features : null;
        if (tooLarge != null) {
            oversizeRecords.inc();
            String message = tooLarge.kind() + " record of " + tooLarge.value().length + " bytes exceeds the sink's limit of "
                    + options.maxRecordBytes() + " bytes (minus " + RECORD_OVERHEAD_BYTES + " bytes framing)";
            flatMap2(Rejection.withoutOriginal(result.id(), FailureStage.serialize, RECORD_TOO_LARGE, message, result.origin(),
                    result.processedAtMillis()), out);
            return;
        }
        out.collect(tokens);
        if (features != null) {
            out.collect(features);
        }
    }

    @Override
    public void flatMap2(Rejection rejection, Collector<EncodedRecord> out) {
        Origin origin = rejection.origin();
        String message = rejection.message().length() <= MAX_MESSAGE_CHARS
                ? rejection.message()
                : rejection.message().substring(0, MAX_MESSAGE_CHARS);
        DeadLetterRecord record = DeadLetterRecord.newBuilder()
                .setId(rejection.id())
                .setStage(rejection.stage())
                .setReason(rejection.reason())
                .setMessage(message)
                .setOriginal(rejection.original() == null ? null : ByteBuffer.wrap(rejection.original()))
                .setOriginalSize(rejection.originalSize())
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setFailedAt(Instant.ofEpochMilli(rejection.failedAtMillis()))
                .build();
        EncodedRecord encoded = deadLetter(record);
        if (!fits(encoded)) {
            trimmedDeadLetters.inc();
            encoded = trimToFit(record, encoded);
        }
        out.collect(encoded);
    }

    /** Sheds {@code record}'s detail until it fits the sink (see the class comment for the order). */
    private EncodedRecord trimToFit(DeadLetterRecord record, EncodedRecord encoded) {
        if (record.getOriginal() != null) {
            record = DeadLetterRecord.newBuilder(record).setOriginal(null).build();
            encoded = deadLetter(record);
        }
        if (!fits(encoded)) {
            int excessBytes = recordBytes(encoded) - (options.maxRecordBytes() - RECORD_OVERHEAD_BYTES);
            String message = record.getMessage();
            // Shortening a string never lengthens its Avro length prefix, so cutting the excess suffices.
            record = DeadLetterRecord.newBuilder(record)
                    .setMessage(utf8Prefix(message, utf8Length(message) - excessBytes))
                    .build();
            encoded = deadLetter(record);
        }
        if (!fits(encoded)) {
            record = DeadLetterRecord.newBuilder(record).setId(null).build();
            encoded = deadLetter(record);
        }
        if (!fits(encoded)) {
            // EncoderOptions keeps room for the stamps, a reason code and a Kafka topic name; only a
            // reason or source name far longer than those can get here.
            throw new IllegalStateException("A dead letter without original, message and id still has "
                    + recordBytes(encoded) + " bytes, over the limit of " + options.maxRecordBytes() + " (reason "
                    + record.getReason() + ", source " + record.getSourceTopic() + ")");
        }
        return encoded;
    }

    private static EncodedRecord deadLetter(DeadLetterRecord record) {
        return new EncodedRecord(
                RecordKind.DEAD_LETTER, record.getId(), SingleObjectEncoding.toBytes(DeadLetterRecord.getEncoder(), record));
    }

    private TokenRecord tokenRecord(TokenizedImage result) {
        Origin origin = result.origin();
        return TokenRecord.newBuilder()
                .setId(result.id())
                .setImageSha256(result.sha256())
                .setModelId(manifest.modelId())
                .setModelVersion(manifest.modelVersion())
                .setCodebookSha256(manifest.codebookSha256())
                .setGridHeight(manifest.gridHeight())
                .setGridWidth(manifest.gridWidth())
                .setCodebookSize(manifest.codebookSize())
                .setDtype(tokenIdType)
                .setTokenIds(ByteBuffer.wrap(TokenIds.encode(result.tokenIds(), tokenIdType)))
                .setMeanQuantError(result.meanQuantError())
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setProcessedAt(Instant.ofEpochMilli(result.processedAtMillis()))
                .build();
    }

    private FeatureRecord featureRecord(TokenizedImage result) {
        Origin origin = result.origin();
        boolean pooled = options.featureMode() == FeatureMode.POOLED;
        List<Integer> shape = pooled
                ? List.of(manifest.featureDim())
                : List.of(manifest.numTokens(), manifest.featureDim());
        return FeatureRecord.newBuilder()
                .setId(result.id())
                .setImageSha256(result.sha256())
                .setModelId(manifest.modelId())
                .setModelVersion(manifest.modelVersion())
                .setCodebookSha256(manifest.codebookSha256())
                .setKind(pooled ? FeatureKind.pooled : FeatureKind.per_token)
                .setShape(shape)
                .setDtype(FeatureValueType.valueOf(options.featureDtype().avroName()))
                .setValues(ByteBuffer.wrap(result.features()))
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setProcessedAt(Instant.ofEpochMilli(result.processedAtMillis()))
                .build();
    }

    private boolean fits(EncodedRecord record) {
        return recordBytes(record) + RECORD_OVERHEAD_BYTES <= options.maxRecordBytes();
    }

    /** Key plus value: what the record limit counts besides framing. */
    private static int recordBytes(EncodedRecord record) {
        return (record.key() == null ? 0 : utf8Length(record.key())) + record.value().length;
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The longest prefix of {@code text} whose UTF-8 form has at most {@code maxBytes} bytes, cut between code points. */
    private static String utf8Prefix(String text, int maxBytes) {
        int bytes = 0;
        int end = 0;
        while (end < text.length()) {
            int codePoint = text.codePointAt(end);
            bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
            if (bytes > maxBytes) {
                break;
            }
            end += Character.charCount(codePoint);
        }
        return text.substring(0, end);
    }
}
