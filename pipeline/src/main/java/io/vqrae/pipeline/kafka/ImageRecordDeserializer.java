package io.vqrae.pipeline.kafka;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.schemas.ImageRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputImage> out) {
        Origin origin = Origin.of(record.topic(), record.partition(), record.offset());
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            out.collect(InputImage.unreadable(key, new byte[0], origin, "record has no value (tombstone)"));
            return;
        }
        ImageRecord image;
        try {
            image = ImageRecord.getDecoder().decode(record.value());
        } catch (IOException | RuntimeException e) {
            // Avro's reader fails on garbage in more ways than AvroRuntimeException (for example an
            // out-of-range index or a negative array size); any of them would otherwise fail the source
            // on every replay of the record.
            out.collect(InputImage.unreadable(key, record.value(), origin, "not an ImageRecord: " + e));
            return;
        }
        out.collect(InputImage.of(image.getId(), bytes(image.getImage()), origin));
    }

    @Override
    public TypeInformation<InputImage> getProducedType() {
        return TypeInformation.of(InputImage.class);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
