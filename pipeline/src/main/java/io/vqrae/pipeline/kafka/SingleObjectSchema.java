package io.vqrae.pipeline.kafka;

import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.ImageRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * Reads the job's records (Avro single-object encoding) in a Flink consumer:
 * {@code KafkaSource.<TokenRecord>builder().setValueOnlyDeserializer(SingleObjectSchema.tokens())}, or
 * {@code KafkaRecordDeserializationSchema.valueOnly(...)} to keep keys and positions. A value that is not a
 * single-object record of the expected schema fails with the fingerprint it carries and the one expected,
 * so a consumer pointed at the wrong topic says so. Plain JVM code can call {@link #deserialize} directly.
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
            SpecificData model = SpecificData.getForClass(type);
            decoder = new BinaryMessageDecoder<>(model, model.getSchema(type));
        }
        try {
            return decoder.decode(ByteBuffer.wrap(message));
        } catch (MissingSchemaException e) {
            long expected = SchemaNormalization.parsingFingerprint64(SpecificData.get().getSchema(type));
            throw new IOException("Not a " + type.getSimpleName() + ": its schema fingerprint is "
                    + (message.length >= 10 ? Long.toHexString(ByteBuffer.wrap(message, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()) : "missing")
                    + ", expected " + Long.toHexString(expected) + " (a record of another schema or schema version)", e);
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
