package io.vqrae.pipeline.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.InputMetadata;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.schemas.ImageRecord;
import io.vqrae.schemas.versions.ReleasedSchemas;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads {@code ImageRecord}s (Avro single-object encoding, any released version) from the input topic and captures
 * each record's topic, partition and offset, and what it carries besides the image: its metadata map as a JSON
 * object (keys sorted), its {@value #CAPTION} entry as the input's text, and its source URI, which the outputs copy.
 * A record that is not a valid {@code ImageRecord} is passed on as unreadable, to be dead-lettered by the decode
 * stage; it never fails the source.
 */
public final class ImageRecordDeserializer implements KafkaRecordDeserializationSchema<InputImage> {
    private static final long serialVersionUID = 1L;
    /** Avro single-object encoding: the marker bytes C3 01 and the writer schema's 8-byte fingerprint. */
    private static final int SINGLE_OBJECT_HEADER = 10;
    /** The metadata entry that is the input's text (img2dataset's name for it). */
    public static final String CAPTION = "caption";
    private static final ObjectMapper JSON = new ObjectMapper();

    private transient BinaryMessageDecoder<ImageRecord> decoder;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<InputImage> out) {
        if (decoder == null) {
            decoder = ReleasedSchemas.decoder(ImageRecord.class);
        }
        Origin origin = Origin.of(record.topic(), record.partition(), record.offset());
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            out.collect(InputImage.unreadable(key, new byte[0], origin, ReasonCode.MALFORMED_RECORD, "record has no value (tombstone)"));
            return;
        }
        ImageRecord image;
        try {
            checkDeclaredLengths(record.value());
            image = decoder.decode(record.value());
        } catch (IOException | RuntimeException e) {
            // Avro's reader fails on garbage in more ways than AvroRuntimeException (for example an
            // out-of-range index or a negative array size); any of them would otherwise fail the source
            // on every replay of the record.
            out.collect(InputImage.unreadable(key, record.value(), origin, ReasonCode.MALFORMED_RECORD, "not an ImageRecord: " + e));
            return;
        }
        out.collect(InputImage.of(image.getId(), bytes(image.getImage()),
                Origin.of(record.topic(), record.partition(), record.offset(), metadata(image))));
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
            // Walked with the schema it was written with; an unknown one fails in the decoder, which reads nothing then.
            Schema writer = ReleasedSchemas.store("ImageRecord")
                    .findByFingerprint(ByteBuffer.wrap(value, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
            if (writer != null) {
                GenericDatumReader.skip(writer,
                        DecoderFactory.get().binaryDecoder(value, SINGLE_OBJECT_HEADER, value.length - SINGLE_OBJECT_HEADER, null));
            }
        }
    }

    /** What the record brings besides its image, as its output records carry it. */
    static InputMetadata metadata(ImageRecord image) {
        Map<String, String> entries = image.getMetadata();
        String json;
        try {
            json = entries.isEmpty() ? null : JSON.writeValueAsString(new TreeMap<>(entries));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("A map of strings always serializes", e);
        }
        return new InputMetadata(json, entries.get(CAPTION), image.getSourceUri());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
