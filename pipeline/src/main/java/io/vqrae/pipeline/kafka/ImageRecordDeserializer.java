package io.vqrae.pipeline.kafka;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.schemas.ImageRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads {@code ImageRecord}s (Avro single-object encoding) from the input topic and captures each
 * record's topic, partition and offset. A record that is not a valid {@code ImageRecord} is passed on as
 * unreadable, to be dead-lettered by the decode stage; it never fails the source.
 */
public final class ImageRecordDeserializer implements KafkaRecordDeserializationSchema<InputImage> {
    private static final long serialVersionUID = 1L;
    /** Avro single-object encoding: the marker bytes C3 01 and the writer schema's 8-byte fingerprint. */
    private static final int SINGLE_OBJECT_HEADER = 10;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputImage> out) {
        Origin origin = Origin.of(record.topic(), record.partition(), record.offset());
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            out.collect(InputImage.unreadable(key, new byte[0], origin, ReasonCode.MALFORMED_RECORD, "record has no value (tombstone)"));
            return;
        }
        ImageRecord image;
        try {
            checkDeclaredLengths(record.value());
            image = ImageRecord.getDecoder().decode(record.value());
        } catch (IOException | RuntimeException e) {
            // Avro's reader fails on garbage in more ways than AvroRuntimeException (for example an
            // out-of-range index or a negative array size); any of them would otherwise fail the source
            // on every replay of the record.
            out.collect(InputImage.unreadable(key, record.value(), origin, ReasonCode.MALFORMED_RECORD, "not an ImageRecord: " + e));
            return;
        }
        out.collect(InputImage.of(image.getId(), bytes(image.getImage()), origin));
    }

    @Override
    public TypeInformation<InputImage> getProducedType() {
        return TypeInformation.of(InputImage.class);
    }

    /**
     * Walks the datum with Avro's skip methods, which compare every declared string, bytes and map length with the
     * bytes that are left, before decoding it: the decoder allocates a field's declared length before reading it, so
     * a 20-byte record declaring a 2 GB image would throw OutOfMemoryError here, fail the source, and fail it again
     * on every replay of the record after the restart.
     */
    private static void checkDeclaredLengths(byte[] value) throws IOException {
        if (value.length > SINGLE_OBJECT_HEADER) {
            GenericDatumReader.skip(ImageRecord.getClassSchema(),
                    DecoderFactory.get().binaryDecoder(value, SINGLE_OBJECT_HEADER, value.length - SINGLE_OBJECT_HEADER, null));
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
