package io.vqrae.operators.encode;

import io.vqrae.operators.data.Origin;
import io.vqrae.operators.dedup.Deduplicate;
import io.vqrae.operators.dedup.Duplicate;
import io.vqrae.schemas.TokenRecord;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Pairs each duplicate with the token record of the image it duplicates, keyed by the image's SHA-256, so a
 * duplicate's own metadata and caption reach a trainer beside its image's tokens instead of sitting on a
 * record without them. Deduplication runs before decode, so a duplicate usually arrives before its first
 * copy has been tokenized: it waits in keyed state until the tokens come. A duplicate whose first copy never
 * brings tokens (it became a dead letter) is emitted alone at the end of the input (the end-of-input
 * watermark fires its timer), naming the first id as before.
 *
 * <p>State: the token record (Avro single-object bytes, about 0.7 KB for 256 tokens) of every tokenized
 * image, for the duplicates still to come, with the same time-to-live as deduplication's own state.
 */
public final class DuplicatePairing extends KeyedCoProcessFunction<String, DuplicatePairing.ImageTokens, Duplicate, EncodedSample> {
    private static final long serialVersionUID = 1L;

    /** A tokenized image's token record, under the image's SHA-256. */
    public record ImageTokens(String imageSha256, byte[] tokenRecord) {}

    private final Duration ttl;

    private transient ValueState<byte[]> tokens;
    private transient ListState<Duplicate> waiting;

    /** @param ttl how long an image's tokens are kept after they were last used; zero keeps them for the whole run */
    public DuplicatePairing(Duration ttl) {
        if (ttl.isNegative()) {
            throw new IllegalArgumentException("ttl must not be negative, got " + ttl);
        }
        this.ttl = ttl;
    }

    /** The token records of the tokenized samples of a stream, for the pairing's first input. */
    public static FlatMapFunction<EncodedSample, ImageTokens> tokenRecords() {
        return (sample, out) -> {
            if (sample.kind() == RecordKind.TOKENS) {
                byte[] value = sample.record().value();
                out.collect(new ImageTokens(TokenRecord.fromByteBuffer(ByteBuffer.wrap(value)).getImageSha256(), value));
            }
        };
    }

    @Override
    public void open(OpenContext openContext) {
        tokens = getRuntimeContext().getState(Deduplicate.forgottenAfter(
                new ValueStateDescriptor<>("original-tokens", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO), ttl));
        waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting-duplicates", TypeInformation.of(Duplicate.class)));
    }

    @Override
    public void processElement1(ImageTokens original, Context ctx, Collector<EncodedSample> out) throws Exception {
        tokens.update(original.tokenRecord());
        List<Duplicate> released = new ArrayList<>();
        waiting.get().forEach(released::add);
        if (!released.isEmpty()) {
            waiting.clear();
            for (Duplicate duplicate : released) {
                out.collect(paired(duplicate, original.tokenRecord()));
            }
        }
    }

    @Override
    public void processElement2(Duplicate duplicate, Context ctx, Collector<EncodedSample> out) throws Exception {
        byte[] original = tokens.value();
        if (original != null) {
            out.collect(paired(duplicate, original));
        } else {
            waiting.add(duplicate);
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
        }
    }

    /** The end of the input: whatever still waits has no tokens to wait for. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EncodedSample> out) throws Exception {
        for (Duplicate duplicate : waiting.get()) {
            out.collect(EncodedSample.of(DuplicateEncoder.encode(duplicate)));
        }
        waiting.clear();
    }

    private static EncodedSample paired(Duplicate duplicate, byte[] tokenRecord) {
        return EncodedSample.of(DuplicateEncoder.encode(duplicate))
                .withOriginalTokens(new EncodedRecord(RecordKind.TOKENS, duplicate.duplicateOf(), tokenRecord, Origin.NONE));
    }
}
