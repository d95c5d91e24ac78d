package io.vqrae.operators.dedup;

import io.vqrae.operators.data.InputImage;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Computes each readable input's SHA-256 once, before the keyBy that deduplication needs: the key selector
 * runs on both sides of the network hop, and decode reuses the digest instead of hashing again.
 */
public final class DigestFunction extends RichMapFunction<InputImage, InputImage> {
    private static final long serialVersionUID = 1L;

    private transient MessageDigest sha256;

    @Override
    public void open(OpenContext openContext) throws NoSuchAlgorithmException {
        sha256 = MessageDigest.getInstance("SHA-256");
    }

    @Override
    public InputImage map(InputImage input) {
        return input.readable() ? input.withSha256(HexFormat.of().formatHex(sha256.digest(input.payload()))) : input;
    }
}
