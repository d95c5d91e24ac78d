package io.vqrae.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
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
                .hasMessage("Not a TokenRecord: its schema fingerprint is 1ece1c93f9e9e64c, expected one of TokenRecord"
                        + " v1=dbe90410bbaca45c, v2=b3d1732017e7395c (a record of another schema, or of a version released after this reader)");
        assertThatThrownBy(() -> SingleObjectSchema.tokens().deserialize("plain text".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("Not an Avro single-object record");
    }

    @Test
    void readsRecordsOfEveryReleasedVersionIntoTodaysClass() throws IOException {
        Path v1 = TestPaths.root().resolve("schemas/fixtures/v1/single-object");
        TokenRecord old = SingleObjectSchema.tokens().deserialize(Files.readAllBytes(v1.resolve("TokenRecord-v1-b.png.bin")));
        assertThat(old.getId()).isEqualTo("v1-b.png");
        assertThat(old.getTokenIds().remaining()).isEqualTo(512);
        assertThat(Arrays.asList(old.getMetadata(), old.getText(), old.getSourceUri())).containsOnlyNulls();
        DuplicateRecord oldDuplicate = SingleObjectSchema.duplicates().deserialize(Files.readAllBytes(v1.resolve("DuplicateRecord-v1-a.png.bin")));
        assertThat(oldDuplicate.getDuplicateOf()).isEqualTo("v1-a-copy.png");
        assertThat(oldDuplicate.getText()).isNull();
        assertThat(SingleObjectSchema.features().deserialize(Files.readAllBytes(v1.resolve("FeatureRecord-v1-b.png.bin"))).getShape())
                .containsExactly(128);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
