package io.vqrae.operators.encode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Avro single-object encoding (marker, schema fingerprint, binary datum) to a byte array, the form every
 * record of the job takes on Kafka. Generated classes hand out the encoder: {@code TokenRecord.getEncoder()}.
 */
public final class SingleObjectEncoding {
    private SingleObjectEncoding() {}

    public static <T> byte[] toBytes(BinaryMessageEncoder<T> encoder, T record) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            encoder.encode(record, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("Writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }
}
