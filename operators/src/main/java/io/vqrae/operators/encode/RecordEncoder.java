package io.vqrae.operators.encode;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.data.FeatureTensor;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.FeatureValueType;
import io.vqrae.schemas.TokenIdType;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.co.CoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Turns tokenizer results into {@code TokenRecord} + {@code FeatureRecord} and rejections into
 * {@code DeadLetterRecord}, serialized with Avro single-object encoding (schema fingerprint header, no
 * registry needed). A feature record's kind, dtype and shape are those the tokenizer computed, carried
 * on the result ({@link FeatureTensor}), so they cannot disagree.
 *
 * <p>Every input ends as one {@link EncodedSample}: its token record (and feature record unless features are
 * off) or exactly one dead letter: if either output of an image would exceed the sink's record limit, neither is written
 * and the image is dead-lettered with reason {@code record_too_large} ({@link ReasonCode#RECORD_TOO_LARGE}). Both records carry what came with the input
 * ({@link io.vqrae.operators.data.InputMetadata}: its metadata, text and source URI); an input bringing more than
 * {@code limits.max-metadata-bytes} of them is dead-lettered with the same reason, so the record limit, which makes
 * room for that much, stays an upper bound the topics were sized for.
 *
 * <p>Dead letters must fit as well: one the sink refuses would fail the job again on every replay. A dead
 * letter over the limit sheds detail in the order a reader can best do without it: first
 * {@code original} (its {@code original_size} stays, and the input is still at its source position), then
 * the end of {@code message}, and last the id, both as field and key (the source topic, partition and
 * offset still identify the input).
 */
public final class RecordEncoder extends CoProcessFunction<TokenizedImage, Rejection, EncodedSample> {
    private static final long serialVersionUID = 1L;

    /** Dead-letter messages are for people; cap them so a pathological message cannot grow a record. */
    private static final int MAX_MESSAGE_CHARS = 4096;

    private final EncoderSpec spec;

    private transient ModelManifest manifest;
    private transient TokenIdType tokenIdType;
    private transient JobMetrics jobMetrics;

    public RecordEncoder(EncoderSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    @Override
    public void open(OpenContext openContext) {
        manifest = spec.manifest();
        jobMetrics = JobMetrics.open(spec.metrics(), getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        tokenIdType = TokenIds.typeFor(manifest.codebookSize());
    }

    @Override
    public void close() throws Exception {
        if (jobMetrics != null) {
            jobMetrics.close();
        }
        super.close();
    }

    @Override
    public void processElement1(TokenizedImage result, Context ctx, Collector<EncodedSample> out) {
        long start = System.nanoTime();
        int metadataBytes = result.origin().metadata().utf8Bytes();
        if (metadataBytes > spec.limits().maxMetadataBytes()) {
            String message = "the input's metadata, text and source URI take " + metadataBytes + " bytes, more than limits.max-metadata-bytes ("
                    + spec.limits().maxMetadataBytes() + ") that each of its records may carry";
            processElement2(Rejection.withoutOriginal(result.id(), ReasonCode.RECORD_TOO_LARGE, message,
                    result.origin(), result.processedAtMillis()), ctx, out);
            return;
        }
        EncodedRecord tokens = new EncodedRecord(RecordKind.TOKENS, result.id(), bytes(tokenRecord(result)::toByteBuffer), result.origin());
        EncodedRecord features = result.features() == null
                ? null
                : new EncodedRecord(RecordKind.FEATURES, result.id(), bytes(featureRecord(result)::toByteBuffer), result.origin());
        EncodedRecord tooLarge = !fits(tokens) ? tokens : features != null && !fits(features) ? features : null;
        if (tooLarge != null) {
            String message = tooLarge.kind() + " record of " + tooLarge.value().length + " bytes exceeds the sink's limit of "
                    + spec.limits().maxRecordBytes() + " bytes (minus " + RecordLimits.FRAMING_BYTES + " bytes framing)";
            processElement2(Rejection.withoutOriginal(result.id(), ReasonCode.RECORD_TOO_LARGE, message,
                    result.origin(), result.processedAtMillis()), ctx, out);
            return;
        }
        out.collect(EncodedSample.tokens(tokens, features));
        emitted(ctx, start);
    }

    @Override
    public void processElement2(Rejection rejection, Context ctx, Collector<EncodedSample> out) {
        long start = System.nanoTime();
        Origin origin = rejection.origin();
        String message = rejection.message().length() <= MAX_MESSAGE_CHARS
                ? rejection.message()
                : rejection.message().substring(0, MAX_MESSAGE_CHARS);
        DeadLetterRecord record = DeadLetterRecord.newBuilder()
                .setId(rejection.id())
                .setStage(rejection.stage())
                .setReason(rejection.reason().code())
                .setMessage(message)
                .setOriginal(rejection.original() == null ? null : ByteBuffer.wrap(rejection.original()))
                .setOriginalSize(rejection.originalSize())
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setFailedAt(Instant.ofEpochMilli(rejection.failedAtMillis()))
                .build();
        EncodedRecord encoded = deadLetter(record, origin);
        if (!fits(encoded)) {
            jobMetrics.deadLetterTrimmed();
            encoded = trimToFit(record, encoded);
        }
        out.collect(EncodedSample.of(encoded));
        jobMetrics.deadLetter(rejection.reason());
        emitted(ctx, start);
    }

    /** End-to-end latency from the input record's timestamp (when the source gave one) and the encode time. */
    private void emitted(Context ctx, long startNanos) {
        Long inputTimestamp = ctx.timestamp();
        Long latency = inputTimestamp == null ? null : System.currentTimeMillis() - inputTimestamp;
        jobMetrics.emitted(latency, System.nanoTime() - startNanos);
    }

    /** Sheds {@code record}'s detail until it fits the sink (see the class comment for the order). */
    private EncodedRecord trimToFit(DeadLetterRecord record, EncodedRecord encoded) {
        Origin origin = encoded.origin();
        if (record.getOriginal() != null) {
            record = DeadLetterRecord.newBuilder(record).setOriginal(null).build();
            encoded = deadLetter(record, origin);
        }
        if (!fits(encoded)) {
            int excessBytes = recordBytes(encoded) - (spec.limits().maxRecordBytes() - RecordLimits.FRAMING_BYTES);
            String message = record.getMessage();
            // Shortening a string never lengthens its Avro length prefix, so cutting the excess suffices.
            record = DeadLetterRecord.newBuilder(record)
                    .setMessage(utf8Prefix(message, utf8Length(message) - excessBytes))
                    .build();
            encoded = deadLetter(record, origin);
        }
        if (!fits(encoded)) {
            record = DeadLetterRecord.newBuilder(record).setId(null).build();
            encoded = deadLetter(record, origin);
        }
        if (!fits(encoded)) {
            // RecordLimits keeps room for the stamps, a reason code and a Kafka topic name; only a
            // reason or source name far longer than those can get here.
            throw new IllegalStateException("A dead letter without original, message and id still has "
                    + recordBytes(encoded) + " bytes, over the limit of " + spec.limits().maxRecordBytes() + " (reason "
                    + record.getReason() + ", source " + record.getSourceTopic() + ")");
        }
        return encoded;
    }

    private static EncodedRecord deadLetter(DeadLetterRecord record, Origin origin) {
        return new EncodedRecord(RecordKind.DEAD_LETTER, record.getId(), bytes(record::toByteBuffer), origin);
    }

    /** A generated class's {@code toByteBuffer}: Avro single-object encoding into a fresh buffer. */
    interface SingleObject {
        ByteBuffer encode() throws IOException;
    }

    /** The record's single-object encoding as an array (also {@link DuplicateEncoder}'s). */
    static byte[] bytes(SingleObject record) {
        ByteBuffer buffer;
        try {
            buffer = record.encode();
        } catch (IOException e) {
            throw new UncheckedIOException("Encoding to memory cannot fail", e);
        }
        // The buffer wraps an array of its own, usually exactly; copy only when it does not.
        return buffer.arrayOffset() == 0 && buffer.position() == 0 && buffer.limit() == buffer.array().length
                ? buffer.array()
                : Arrays.copyOfRange(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.arrayOffset() + buffer.limit());
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
                .setMetadata(origin.metadata().json())
                .setText(origin.metadata().text())
                .setSourceUri(origin.metadata().sourceUri())
                .build();
    }

    private FeatureRecord featureRecord(TokenizedImage result) {
        Origin origin = result.origin();
        FeatureTensor features = result.features();
        return FeatureRecord.newBuilder()
                .setId(result.id())
                .setImageSha256(result.sha256())
                .setModelId(manifest.modelId())
                .setModelVersion(manifest.modelVersion())
                .setCodebookSha256(manifest.codebookSha256())
                .setKind(switch (features.mode()) {
                    case PER_TOKEN -> FeatureKind.per_token;
                    case POOLED -> FeatureKind.pooled;
                    case OFF -> throw new IllegalStateException("A feature tensor of mode off");
                })
                .setShape(Arrays.stream(features.shape()).boxed().toList())
                .setDtype(FeatureValueType.valueOf(features.dtype().avroName()))
                .setValues(ByteBuffer.wrap(features.values()))
                .setSourceTopic(origin.topic())
                .setSourcePartition(origin.partition())
                .setSourceOffset(origin.offset())
                .setProcessedAt(Instant.ofEpochMilli(result.processedAtMillis()))
                .setMetadata(origin.metadata().json())
                .setText(origin.metadata().text())
                .setSourceUri(origin.metadata().sourceUri())
                .build();
    }

    private boolean fits(EncodedRecord record) {
        return spec.limits().fits(recordBytes(record));
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
