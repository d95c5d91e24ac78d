package io.vqrae.schemas.versions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.ImageRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;

/**
 * Records written by released versions (fixtures/v1, written by the v1 code) read into today's classes: the
 * single-object records through {@link ReleasedSchemas#decoder}, the Avro container files with the schema in
 * their header. Values are those the v1 classes decoded (fixtures/v1/expected.json).
 */
class ReleasedRecordsTest {
    static final Path V1 = Path.of("fixtures/v1");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void v1SingleObjectRecordsDecodeIntoTodaysClasses() throws Exception {
        JsonNode expected = JSON.readTree(V1.resolve("expected.json").toFile());
        TokenRecord tokens = ReleasedSchemas.decoder(TokenRecord.class).decode(fixture("TokenRecord-v1-b.png"));
        assertThat(fingerprint(fixture("TokenRecord-v1-b.png"))).isEqualTo("dbe90410bbaca45c");
        assertToken(tokens, "v1-b.png", expected.get("tokens").get("v1-b.png"));

        FeatureRecord features = ReleasedSchemas.decoder(FeatureRecord.class).decode(fixture("FeatureRecord-v1-a-copy.png"));
        JsonNode f = expected.get("features").get("v1-a-copy.png");
        assertThat(features.getId()).isEqualTo("v1-a-copy.png");
        assertThat(features.getKind().name()).isEqualTo(f.get("kind").asText()).isEqualTo("pooled");
        assertThat(features.getShape()).containsExactly(128);
        assertThat(HexFormat.of().formatHex(bytes(features.getValues()))).isEqualTo(f.get("values_hex").asText());

        DuplicateRecord duplicate = ReleasedSchemas.decoder(DuplicateRecord.class).decode(fixture("DuplicateRecord-v1-a.png"));
        assertThat(duplicate.getId()).isEqualTo("v1-a.png");
        assertThat(duplicate.getDuplicateOf()).isEqualTo("v1-a-copy.png");

        DeadLetterRecord dead = ReleasedSchemas.decoder(DeadLetterRecord.class).decode(fixture("DeadLetterRecord-v1-broken.png"));
        assertThat(dead.getId()).isEqualTo("v1-broken.png");
        assertThat(dead.getReason()).isEqualTo("unsupported_format");

        ImageRecord image = ReleasedSchemas.decoder(ImageRecord.class).decode(fixture("ImageRecord-v1-image"));
        assertThat(image.getId()).isEqualTo("v1-image");
        assertThat(image.getSourceUri()).isEqualTo("file:///fixtures/v1-a.png");
        assertThat(image.getMetadata()).containsExactly(org.assertj.core.api.Assertions.entry("caption", "a v1 image record"));
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes(image.getImage()))))
                .isEqualTo(expected.get("images").get("v1-image").asText());
    }

    @Test
    void aDecoderRefusesAnotherRecordTypeNamingWhatItKnows() throws IOException {
        byte[] features = fixture("FeatureRecord-v1-b.png");
        assertThatThrownBy(() -> ReleasedSchemas.decoder(TokenRecord.class).decode(features))
                .isInstanceOf(MissingSchemaException.class);
        assertThat(ReleasedSchemas.describe("TokenRecord")).startsWith("TokenRecord v1=dbe90410bbaca45c");
    }

    @Test
    void v1ContainerFilesReadIntoTodaysClasses() throws IOException {
        JsonNode expected = JSON.readTree(V1.resolve("expected.json").toFile());
        List<TokenRecord> tokens = container("tokens", TokenRecord.class);
        assertThat(tokens).extracting(TokenRecord::getId).containsExactlyInAnyOrder("v1-a-copy.png", "v1-b.png");
        for (TokenRecord record : tokens) {
            assertToken(record, record.getId(), expected.get("tokens").get(record.getId()));
        }
        assertThat(container("features", FeatureRecord.class)).extracting(FeatureRecord::getId)
                .containsExactlyInAnyOrder("v1-a-copy.png", "v1-b.png");
        assertThat(container("duplicates", DuplicateRecord.class)).extracting(DuplicateRecord::getDuplicateOf).containsExactly("v1-a-copy.png");
        assertThat(container("dead-letters", DeadLetterRecord.class)).extracting(DeadLetterRecord::getReason).containsExactly("unsupported_format");
    }

    /** Fields of a released record equal what v1 decoded; fields v1 did not have are at today's defaults. */
    static void assertToken(TokenRecord record, String id, JsonNode expected) {
        assertThat(record.getId()).isEqualTo(id);
        assertThat(record.getImageSha256()).isEqualTo(expected.get("image_sha256").asText());
        assertThat(record.getCodebookSha256()).isEqualTo(expected.get("codebook_sha256").asText());
        assertThat(List.of(record.getGridHeight(), record.getGridWidth())).containsExactly(16, 16);
        List<Integer> ids = new ArrayList<>();
        expected.get("token_ids").forEach(n -> ids.add(n.asInt()));
        ByteBuffer raw = record.getTokenIds().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> actual = new ArrayList<>();
        while (raw.hasRemaining()) {
            actual.add(Short.toUnsignedInt(raw.getShort()));
        }
        assertThat(actual).hasSize(256).isEqualTo(ids);
        assertThat(record.getMeanQuantError()).isEqualTo((float) expected.get("mean_quant_error").asDouble());
        assertThat(record.getProcessedAt().toEpochMilli()).isEqualTo(expected.get("processed_at").asLong());
    }

    static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(V1.resolve("single-object").resolve(name + ".bin"));
    }

    private static String fingerprint(byte[] record) {
        return Long.toHexString(ByteBuffer.wrap(record, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    private static <T extends SpecificRecordBase> List<T> container(String folder, Class<T> type) throws IOException {
        List<T> records = new ArrayList<>();
        try (Stream<Path> files = Files.list(V1.resolve("corpus-avro").resolve(folder))) {
            for (Path file : files.sorted().toList()) {
                try (InputStream in = Files.newInputStream(file); DataFileStream<T> stream = new DataFileStream<>(in, new SpecificDatumReader<>(type))) {
                    stream.forEach(records::add);
                }
            }
        }
        return records;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
