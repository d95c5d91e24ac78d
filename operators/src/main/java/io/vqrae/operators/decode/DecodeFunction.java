package io.vqrae.operators.decode;

import io.vqrae.models.image.DecodedImage;
import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.schemas.FailureStage;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes each input image and preprocesses it to the model's uint8 [3, H, W] input. CPU-bound and
 * stateless, so it runs at its own (high) parallelism ahead of the tokenizer.
 *
 * <p>Anything wrong with an input (unreadable record, undecodable or oversized image) goes to
 * {@link #REJECTED} with the decoder's stable reason code; this function never throws for bad input.
 */
public final class DecodeFunction extends ProcessFunction<InputImage, PreprocessedImage> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DecodeFunction.class);

    /** Inputs this stage rejected. */
    public static final OutputTag<Rejection> REJECTED = new OutputTag<>("decode-rejected") {};

    /** Reason code for an input record the source could not parse. */
    public static final String MALFORMED_RECORD = "malformed_record";

    /**
     * Reason code for an unexpected runtime error while decoding or preprocessing: a bug there must cost
     * one image, not restart the job on every replay of the same input.
     */
    public static final String DECODER_ERROR = "decoder_error";

    private final DecodeOptions options;

    private transient ImageDecoder decoder;
    private transient Preprocessor preprocessor;
    private transient MessageDigest sha256;
    private transient Counter decoded;
    private transient Counter rejected;

    public DecodeFunction(DecodeOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        ModelManifest manifest = ModelManifest.load(Path.of(options.modelDir()));
        decoder = manifest.imageDecoder()
                .maxPixels(options.maxPixels())
                .maxInputBytes(options.maxInputBytes())
                .build();
        preprocessor = new Preprocessor(manifest.preprocessing());
        sha256 = newSha256();
        var metrics = getRuntimeContext().getMetricGroup().addGroup("vqrae").addGroup("decode");
        decoded = metrics.counter("imagesDecoded");
        rejected = metrics.counter("imagesRejected");
    }

    @Override
    public void processElement(InputImage input, Context ctx, Collector<PreprocessedImage> out) {
        if (!input.readable()) {
            reject(ctx, input, FailureStage.source, MALFORMED_RECORD, input.unreadableReason());
            return;
        }
        byte[] chw;
        try {
            DecodedImage image = decoder.decode(input.payload());
            chw = preprocessor.toChw(image);
        } catch (ImageDecodeException e) {
            reject(ctx, input, FailureStage.decode, e.reason().code(), e.getMessage());
            return;
        } catch (RuntimeException e) {
            // Resizing runs on a decoded image of any accepted size, so it belongs to the same guard.
            LOG.warn("Decoding or preprocessing failed unexpectedly on image {} ({})", input.id(), input.origin(), e);
            reject(ctx, input, FailureStage.decode, DECODER_ERROR, e.toString());
            return;
        }
        String digest = HexFormat.of().formatHex(sha256.digest(input.payload()));
        decoded.inc();
        out.collect(new PreprocessedImage(input.id(), digest, chw, input.origin()));
    }

    private void reject(Context ctx, InputImage input, FailureStage stage, String reason, String message) {
        rejected.inc();
        byte[] payload = input.payload() == null ? new byte[0] : input.payload();
        ctx.output(REJECTED, Rejection.withOriginal(
                input.id(), stage, reason, String.valueOf(message), payload, options.maxDeadLetterBytes(), input.origin(),
                System.currentTimeMillis()));
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform must provide SHA-256", e);
        }
    }
}
