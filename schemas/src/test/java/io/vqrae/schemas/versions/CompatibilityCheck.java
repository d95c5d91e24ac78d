package io.vqrae.schemas.versions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaNormalization;

/**
 * The rules a record schema's evolution must keep, as Avro's {@link SchemaCompatibility} checks them: every
 * released version reads every other's records (backward: a newer reader, an older writer; forward: an older
 * reader, a newer writer), versions have distinct fingerprints, and today's schema is its latest released
 * version, so a change cannot ship without a version of its own.
 */
final class CompatibilityCheck {
    /** The enums the record schemas refer to by name, parsed first (as the avro-maven-plugin's imports). */
    private static final List<String> NAMED_TYPES = List.of("TokenIdType", "FeatureValueType", "FeatureKind", "FailureStage");

    private CompatibilityCheck() {}

    /** Today's record schemas, parsed from the {@code .avsc} files the classes are generated from. */
    static Map<String, Schema> current(Path avroFolder) throws IOException {
        Schema.Parser parser = new Schema.Parser();
        for (String type : NAMED_TYPES) {
            parser.parse(avroFolder.resolve(type + ".avsc").toFile());
        }
        Map<String, Schema> records = new LinkedHashMap<>();
        for (String record : ReleasedSchemas.RECORDS) {
            records.put(record, parser.parse(avroFolder.resolve(record + ".avsc").toFile()));
        }
        return records;
    }

    /** What is wrong with {@code record}'s versions and today's schema; empty when nothing is. */
    static List<String> problems(String record, List<Schema> released, Schema current) {
        List<String> problems = new ArrayList<>();
        for (int older = 0; older < released.size(); older++) {
            for (int newer = older + 1; newer < released.size(); newer++) {
                String pair = record + " v" + (older + 1) + " and v" + (newer + 1);
                compatible(problems, pair + " (backward: v" + (newer + 1) + " reads v" + (older + 1) + ")", released.get(newer), released.get(older));
                compatible(problems, pair + " (forward: v" + (older + 1) + " reads v" + (newer + 1) + ")", released.get(older), released.get(newer));
                if (SchemaNormalization.parsingFingerprint64(released.get(older)) == SchemaNormalization.parsingFingerprint64(released.get(newer))) {
                    problems.add(pair + " have the same fingerprint: a version must change what is written, or it is not a version");
                }
            }
        }
        Schema latest = released.get(released.size() - 1);
        // Schema.equals compares names, types, defaults, order and properties (logical types), not docs: a doc
        // may be reworded without a version, anything a reader resolves with may not.
        if (!latest.equals(current)) {
            int next = released.size() + 1;
            problems.add(record + ".avsc differs from released/" + record + "/v" + released.size() + ".avsc: a changed schema is a new"
                    + " version, add it as released/" + record + "/v" + next + ".avsc (fingerprint "
                    + Long.toHexString(SchemaNormalization.parsingFingerprint64(current)) + ")");
            for (int version = 0; version < released.size(); version++) {
                String pair = record + ".avsc and v" + (version + 1);
                compatible(problems, pair + " (backward: today's reads v" + (version + 1) + ")", current, released.get(version));
                compatible(problems, pair + " (forward: v" + (version + 1) + " reads today's)", released.get(version), current);
            }
        }
        return problems;
    }

    private static void compatible(List<String> problems, String what, Schema reader, Schema writer) {
        SchemaCompatibility.SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        for (Incompatibility incompatibility : result.getResult().getIncompatibilities()) {
            problems.add(what + ": " + incompatibility.getType() + " at " + incompatibility.getLocation() + " (" + incompatibility.getMessage() + ")");
        }
    }
}
