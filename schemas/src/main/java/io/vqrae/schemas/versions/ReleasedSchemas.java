package io.vqrae.schemas.versions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Every released version of every record schema, from {@code schemas/released/NAME/vN.avsc} (on the classpath
 * under {@code io/vqrae/schemas/released/}), so records written by any release stay readable. A single-object
 * record names its writer schema only by fingerprint; a decoder from {@link #decoder} knows the fingerprints of
 * all versions of its record type and resolves an older (or newer) record into today's generated class with
 * Avro's schema resolution: fields a version lacks take their defaults, fields the reader lacks are skipped.
 *
 * <p>Released files are never edited: each is the complete schema (named types inline) a release wrote with.
 * SchemaEvolutionTest fails when today's schema differs from its latest released version, or when two versions
 * are not both backward and forward compatible.
 */
public final class ReleasedSchemas {
    /** The record types written as single-object records; the enums are parts of them, never written alone. */
    public static final List<String> RECORDS = List.of("ImageRecord", "TokenRecord", "FeatureRecord", "DeadLetterRecord", "DuplicateRecord");

    private static final String FOLDER = "/io/vqrae/schemas/released/";
    private static final Map<String, List<Schema>> VERSIONS = new ConcurrentHashMap<>();
    private static final Map<String, SchemaStore.Cache> STORES = new ConcurrentHashMap<>();

    private ReleasedSchemas() {}

    /**
     * The released versions of a record type, oldest (v1) first.
     *
     * @param record a record's simple name, one of {@link #RECORDS}
     * @throws IllegalArgumentException if the record has no released version
     */
    public static List<Schema> versions(String record) {
        return VERSIONS.computeIfAbsent(record, ReleasedSchemas::load);
    }

    /** A store of every released version of {@code record}, by fingerprint: Avro's {@link SchemaStore} (thread-safe). */
    public static SchemaStore store(String record) {
        return STORES.computeIfAbsent(record, name -> {
            SchemaStore.Cache store = new SchemaStore.Cache();
            versions(name).forEach(store::addSchema);
            return store;
        });
    }

    /**
     * A decoder into {@code type} (today's generated class) of single-object records written with any
     * released version of its schema, or with today's.
     */
    public static <T extends SpecificRecordBase> BinaryMessageDecoder<T> decoder(Class<T> type) {
        SpecificData model = SpecificData.getForClass(type);
        Schema current = model.getSchema(type);
        // The store answers for fingerprints the decoder has not seen yet, so each version resolves once, on first use.
        return new BinaryMessageDecoder<>(model, current, store(current.getName()));
    }

    /** {@code name vN=fingerprint} of every version of {@code record}, for error messages. */
    public static String describe(String record) {
        List<Schema> versions = versions(record);
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < versions.size(); i++) {
            parts.add("v" + (i + 1) + "=" + Long.toHexString(SchemaNormalization.parsingFingerprint64(versions.get(i))));
        }
        return record + " " + String.join(", ", parts);
    }

    private static List<Schema> load(String record) {
        List<Schema> versions = new ArrayList<>();
        for (int version = 1; ; version++) {
            String resource = FOLDER + record + "/v" + version + ".avsc";
            try (InputStream in = ReleasedSchemas.class.getResourceAsStream(resource)) {
                if (in == null) {
                    break;
                }
                versions.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + resource, e);
            }
        }
        if (versions.isEmpty()) {
            throw new IllegalArgumentException("No released schema of " + record + " (looked for " + FOLDER + record + "/v1.avsc)");
        }
        return List.copyOf(versions);
    }
}
