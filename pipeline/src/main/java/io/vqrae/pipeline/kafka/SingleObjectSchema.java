package io.vqrae.pipeline.kafka;

import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.ImageRecord;
import io.vqrae.schemas.TokenRecord;
import io.vqrae.schemas.versions.ReleasedSchemas;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * Reads the job's records (Avro single-object encoding) in a Flink consumer:
 * {@code KafkaSource.<TokenRecord>builder().setValueOnlyDeserializer(SingleObjectSchema.tokens())}, or
 * {@code KafkaRecordDeserializationSchema.valueOnly(...)} to keep keys and positions. Records written with any
 * released version of the schema ({@link ReleasedSchemas}) are read into today's class, so one topic may mix them:
 * a v1 TokenRecord comes with {@code metadata}, {@code text} and {@code source_uri} null. A value that is not a
 * single-object record of the expected schema fails with the fingerprint it carries and the ones known, so a
 * consumer pointed at the wrong topic says so. Plain JVM code can call {@link #deserialize} directly.
 *
 * @param <T> the generated record class
 */
public final class SingleObjectSchema<T extends SpecificRecordBase> implements DeserializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;
    private transient BinaryMessageDecoder<T> decoder;

    private SingleObjectSchema(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
    }

    public static SingleObjectSchema<TokenRecord> tokens() {
        return new SingleObjectSchema<>(TokenRecord.class);
    }

    public static SingleObjectSchema<FeatureRecord> features() {
        return new SingleObjectSchema<>(FeatureRecord.class);
    }

    public static SingleObjectSchema<DeadLetterRecord> deadLetters() {
        return new SingleObjectSchema<>(DeadLetterRecord.class);
    }

    public static SingleObjectSchema<DuplicateRecord> duplicates() {
        return new SingleObjectSchema<>(DuplicateRecord.class);
    }

    public static SingleObjectSchema<ImageRecord> images() {
        return new SingleObjectSchema<>(ImageRecord.class);
    }

    @Override
    public T deserialize(byte[] message) throws IOException {
        if (decoder == null) {
            decoder = ReleasedSchemas.decoder(type);
        }
        try {
            return decoder.decode(ByteBuffer.wrap(message));
        } catch (MissingSchemaException e) {
            throw new IOException("Not a " + type.getSimpleName() + ": its schema fingerprint is "
                    + (message.length >= 10 ? Long.toHexString(ByteBuffer.wrap(message, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()) : "missing")
                    + ", expected one of " + ReleasedSchemas.describe(type.getSimpleName())
                    + " (a record of another schema, or of a version released after this reader)", e);
        } catch (BadHeaderException e) {
            throw new IOException("Not an Avro single-object record (no C3 01 header): " + e.getMessage(), e);
        }
    }

    @Override
    public boolean isEndOfStream(T nextElement) {
        return false;
    }

    @Override
    public TypeInformation<T> getProducedType() {
        // With flink-avro on the classpath this is its AvroTypeInfo; without, a generic type.
        return TypeInformation.of(type);
    }
}
