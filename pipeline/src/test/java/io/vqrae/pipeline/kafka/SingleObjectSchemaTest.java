package io.vqrae.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.schemas.DuplicateRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Reading the job's records on the JVM, and what a consumer of the wrong topic is told. */
class SingleObjectSchemaTest {

    @Test
    void decodesItsRecordsAndNamesTheFingerprintOfAnotherSchema() throws IOException {
        DuplicateRecord duplicate = DuplicateRecord.newBuilder()
                .setId("b").setImageSha256("0".repeat(64)).setDuplicateOf("a").setDetectedAt(Instant.ofEpochMilli(1_700_000_000_000L))
                .build();
        byte[] bytes = bytes(duplicate.toByteBuffer());
        assertThat(SingleObjectSchema.duplicates().deserialize(bytes)).isEqualTo(duplicate);

        assertThatThrownBy(() -> SingleObjectSchema.tokens().deserialize(bytes))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("Not a TokenRecord: its schema fingerprint is ")
                .hasMessageContaining("expected ");
        assertThatThrownBy(() -> SingleObjectSchema.tokens().deserialize("plain text".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("Not an Avro single-object record");
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
