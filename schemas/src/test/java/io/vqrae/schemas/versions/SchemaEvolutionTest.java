package io.vqrae.schemas.versions;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

/**
 * The CI check of schema evolution: fails on a change that is not both backward and forward compatible, and on
 * a changed schema that was not released as a new version (see CompatibilityCheck). The fingerprints of
 * released versions are fixed here: they are in the headers of records already written, so they never change.
 */
class SchemaEvolutionTest {
    private static final Path AVRO = Path.of("src/main/avro");

    /** Every released version's single-object fingerprint, oldest first. */
    private static final Map<String, List<String>> FINGERPRINTS = Map.of(
            "ImageRecord", List.of("b71e02054e15662f"),
            "TokenRecord", List.of("dbe90410bbaca45c", "b3d1732017e7395c"),
            "FeatureRecord", List.of("1f2b87979e7428ed", "ec94a93c9d285822"),
            "DeadLetterRecord", List.of("433aab785dd67ed"),
            "DuplicateRecord", List.of("ad0a85ac5bd79a87", "1ece1c93f9e9e64c"));

    @Test
    void everyVersionReadsEveryOtherAndTodaysSchemaIsReleased() throws IOException {
        List<String> problems = new ArrayList<>();
        Map<String, Schema> current = CompatibilityCheck.current(AVRO);
        for (String record : ReleasedSchemas.RECORDS) {
            problems.addAll(CompatibilityCheck.problems(record, ReleasedSchemas.versions(record), current.get(record)));
        }
        assertThat(problems).as("schema evolution problems").isEmpty();
    }

    @Test
    void releasedFingerprintsNeverChange() {
        Map<String, List<String>> released = new LinkedHashMap<>();
        for (String record : ReleasedSchemas.RECORDS) {
            released.put(record, ReleasedSchemas.versions(record).stream()
                    .map(schema -> Long.toHexString(SchemaNormalization.parsingFingerprint64(schema))).toList());
        }
        assertThat(released).containsExactlyInAnyOrderEntriesOf(FINGERPRINTS);
    }

    @Test
    void theCheckRefusesAnIncompatibleChangeAndAnUnreleasedOne() throws IOException {
        Schema tokens = CompatibilityCheck.current(AVRO).get("TokenRecord");
        List<Schema> released = ReleasedSchemas.versions("TokenRecord");

        // A new field without a default: today's reader cannot read an older record, which lacks it.
        Schema required = withField(tokens, new Schema.Field("caption", Schema.create(Schema.Type.STRING), "a caption, required"));
        int field = tokens.getFields().size();
        List<String> expected = new ArrayList<>(List.of("TokenRecord.avsc differs from released/TokenRecord/v" + released.size()
                + ".avsc: a changed schema is a new version, add it as released/TokenRecord/v" + (released.size() + 1) + ".avsc (fingerprint "
                + Long.toHexString(SchemaNormalization.parsingFingerprint64(required)) + ")"));
        for (int version = 1; version <= released.size(); version++) {
            expected.add("TokenRecord.avsc and v" + version + " (backward: today's reads v" + version + "): READER_FIELD_MISSING_DEFAULT_VALUE at /fields/"
                    + field + " (caption)");
        }
        assertThat(CompatibilityCheck.problems("TokenRecord", released, required)).containsExactlyElementsOf(expected);

        // The same field released as the next version does not make it compatible.
        List<Schema> withRequired = new ArrayList<>(released);
        withRequired.add(required);
        int next = withRequired.size();
        assertThat(CompatibilityCheck.problems("TokenRecord", withRequired, required)).contains(
                "TokenRecord v1 and v" + next + " (backward: v" + next + " reads v1): READER_FIELD_MISSING_DEFAULT_VALUE at /fields/" + field + " (caption)");

        // An optional field with a default null, released as the next version: compatible both ways.
        Schema optional = withField(tokens, new Schema.Field("caption", SchemaBuilder.unionOf().nullType().and().stringType().endUnion(),
                "a caption, optional", Schema.Field.NULL_DEFAULT_VALUE));
        List<Schema> withOptional = new ArrayList<>(released);
        withOptional.add(optional);
        assertThat(CompatibilityCheck.problems("TokenRecord", withOptional, optional)).isEmpty();
        // ...but not without releasing it.
        assertThat(CompatibilityCheck.problems("TokenRecord", released, optional)).hasSize(1);
    }

    private static Schema withField(Schema record, Schema.Field added) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field field : record.getFields()) {
            fields.add(new Schema.Field(field, field.schema()));
        }
        fields.add(added);
        return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, fields);
    }
}
