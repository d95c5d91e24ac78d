package io.vqrae.operators.decode;

import io.vqrae.models.image.DecodedImage;
import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.preprocess.Preprocessor;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.data.Rejection;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one path from an input's bytes to the model's uint8 [3, H, W] input, with the job's limits and reason
 * codes: the job's decode stage ({@link DecodeFunction}) and {@code vqrae tokenize} both go
 * through it, so they accept, reject and preprocess alike.
 *
 * <p>Never throws for bad input: anything wrong with an input becomes a {@link Rejected} with a stable
 * reason code. Not thread-safe (it keeps one SHA-256 digest); use one per thread.
 */
public final class ImagePreparer {
    private static final Logger LOG = LoggerFactory.getLogger(ImagePreparer.class);

    private final InputLimits limits;
    private final DecodeMemory memory;
    private final ImageDecoder decoder;
    private final Preprocessor preprocessor;
    private final MessageDigest sha256;

    /**
     * Decodes for {@code manifest}'s model (its preprocessing and alpha background) within {@code limits}, holding
     * at most what this JVM's {@link DecodeMemory#shared() decode memory} allows together with other decodes.
     */
    public ImagePreparer(ModelManifest manifest, InputLimits limits) {
        this(manifest, limits, DecodeMemory.shared());
    }

    ImagePreparer(ModelManifest manifest, InputLimits limits, DecodeMemory memory) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.memory = Objects.requireNonNull(memory, "memory");
        ImageDecoder.Builder decoder = manifest.imageDecoder()
                .maxPixels(limits.maxPixels())
                .maxInputBytes(limits.maxImageBytes());
        if (limits.jpegDraft()) {
            decoder.draft(manifest.imageWidth(), manifest.imageHeight());
        }
        this.decoder = decoder.build();
        this.preprocessor = new Preprocessor(manifest.preprocessing());
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform must provide SHA-256", e);
        }
    }

    /** What became of one input. */
    public sealed interface Outcome permits Prepared, Rejected {}

    /**
     * An input ready for the encoder.
     *
     * @param image the preprocessed image
     * @param decodeNanos time spent decoding
     * @param preprocessNanos time spent resizing and laying out
     * @param sourceWidth width of the decoded (upright) image
     * @param sourceHeight height of the decoded (upright) image
     */
    public record Prepared(PreprocessedImage image, long decodeNanos, long preprocessNanos, int sourceWidth, int sourceHeight)
            implements Outcome {}

    /** An input refused, with the dead letter's content. */
    public record Rejected(Rejection rejection) implements Outcome {}

    public Outcome prepare(InputImage input) {
        if (!input.readable()) {
            return reject(input, input.unreadable().reason(), input.unreadable().message());
        }
        // Over the pixel limit, the decoder refuses it from the header with nothing to reserve; a JPEG decoded as a
        // draft holds only its reduced size.
        long pixels = ImageDecoder.declaredPixels(input.payload());
        long reserved = pixels <= limits.maxPixels() ? decoder.decodedPixels(input.payload()) : 0;
        if (!memory.fits(reserved)) {
            return reject(input, ReasonCode.TOO_MANY_PIXELS, pixels + " pixels need about "
                    + (DecodeMemory.cost(pixels) >> 20) + " MiB to decode, more than the " + (memory.capacityBytes() >> 20)
                    + " MiB this JVM lets decodes hold (" + (int) (DecodeMemory.HEAP_SHARE * 100) + "% of its heap): give the"
                    + " TaskManager more task heap or lower limits.max-pixels");
        }
        long start;
        DecodedImage image;
        long decoded;
        byte[] chw;
        try (DecodeMemory.Reservation held = memory.reserve(reserved)) {
            start = System.nanoTime(); // waiting for memory is not decoding
            image = decoder.decode(input.payload());
            decoded = System.nanoTime();
            chw = preprocessor.toChw(image);
        } catch (ImageDecodeException e) {
            return reject(input, ReasonCode.of(e.reason()), e.getMessage());
        } catch (RuntimeException e) {
            // Resizing runs on a decoded image of any accepted size, so it belongs to the same guard: a bug there
            // must cost one image, not restart the job on every replay of the same input.
            LOG.warn("Decoding or preprocessing failed unexpectedly on image {} ({})", input.id(), input.origin(), e);
            return reject(input, ReasonCode.DECODER_ERROR, e.toString());
        }
        long preprocessed = System.nanoTime();
        String digest = input.sha256() != null ? input.sha256() : HexFormat.of().formatHex(sha256.digest(input.payload()));
        return new Prepared(new PreprocessedImage(input.id(), digest, chw, input.origin()),
                decoded - start, preprocessed - decoded, image.width(), image.height());
    }

    private Rejected reject(InputImage input, ReasonCode reason, String message) {
        byte[] payload = input.payload() == null ? new byte[0] : input.payload();
        return new Rejected(Rejection.withOriginal(
                input.id(), reason, String.valueOf(message), payload, limits.deadLetterMaxOriginalBytes(),
                input.origin(), System.currentTimeMillis()));
    }
}
