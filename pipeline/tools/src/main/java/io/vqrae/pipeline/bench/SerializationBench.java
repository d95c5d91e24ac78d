package io.vqrae.pipeline.bench;

import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.pipeline.config.JobConfig.Compression;
import io.vqrae.schemas.FeatureKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.FeatureValueType;
import io.vqrae.schemas.TokenIdType;
import io.vqrae.schemas.TokenRecord;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Serialization: Avro single-object encode and decode of token and feature records as the job writes them
 * (MB/s of record bytes), and produce throughput of so400m-sized feature records (per-token float16,
 * 256 x 1152 x 2 bytes = 576 KiB) into the embedded broker with the job's producer settings, per compression.
 */
final class SerializationBench {
    /** so400m-256: 256 tokens of 1152 float16 features. */
    static final int SO400M_TOKENS = 256;
    static final int SO400M_FEATURE_DIM = 1152;
    private static final int BROKER_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    record Codec(String record, int bytes, double encodeMegabytesPerSecond, double decodeMegabytesPerSecond) {}

    record Produce(String compression, int recordBytes, double recordsPerSecond, double megabytesPerSecond) {}

    List<Codec> codecs(double seconds) throws Exception {
        TokenRecord tokens = tokenRecord();
        FeatureRecord features = featureRecord();
        return List.of(codec("TokenRecord (256 uint16 ids)", tokens.toByteBuffer(), seconds,
                        () -> tokens.toByteBuffer(), bytes -> TokenRecord.getDecoder().decode(bytes)),
                codec("FeatureRecord (256 x 1152 float16)", features.toByteBuffer(), seconds,
                        () -> features.toByteBuffer(), bytes -> FeatureRecord.getDecoder().decode(bytes)));
    }

    List<Produce> produce(double seconds, List<Compression> compressions) throws Exception {
        byte[] value = bytes(featureRecord().toByteBuffer());
        try (EmbeddedKafka broker = EmbeddedKafka.start(BROKER_MAX_MESSAGE_BYTES)) {
            Properties adminProps = new Properties();
            adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
            try (Admin admin = Admin.create(adminProps)) {
                for (Compression compression : compressions) {
                    admin.createTopics(List.of(new NewTopic(topic(compression), 1, (short) 1)
                            .configs(java.util.Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(BROKER_MAX_MESSAGE_BYTES)))))
                            .all().get();
                }
            }
            List<Produce> results = new java.util.ArrayList<>();
            for (Compression compression : compressions) {
                results.add(produce(broker, compression, value, seconds));
            }
            return results;
        }
    }

    private static Produce produce(EmbeddedKafka broker, Compression compression, byte[] value, double seconds) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(BROKER_MAX_MESSAGE_BYTES));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression.kafkaName());
        String topic = topic(compression);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            // Warm-up: metadata, connections, the broker's first segment.
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
            long start = System.nanoTime();
            long records = 0;
            long elapsed;
            do {
                for (int i = 0; i < 16; i++) {
                    producer.send(new ProducerRecord<>(topic, value));
                }
                records += 16;
                elapsed = System.nanoTime() - start;
            } while (elapsed < seconds * 1e9);
            producer.flush();
            double total = (System.nanoTime() - start) / 1e9;
            return new Produce(compression.kafkaName(), value.length, records / total, records * (double) value.length / total / 1e6);
        }
    }

    private static String topic(Compression compression) {
        return "bench-produce-" + compression.kafkaName();
    }

    private interface Encode {
        ByteBuffer encode() throws Exception;
    }

    private interface Decode {
        Object decode(ByteBuffer bytes) throws Exception;
    }

    private static Codec codec(String name, ByteBuffer sample, double seconds, Encode encode, Decode decode) throws Exception {
        int size = sample.remaining();
        double encodeRate = megabytesPerSecond(size, seconds, () -> encode.encode());
        double decodeRate = megabytesPerSecond(size, seconds, () -> decode.decode(sample.duplicate()));
        return new Codec(name, size, encodeRate, decodeRate);
    }

    private static double megabytesPerSecond(int recordBytes, double seconds, Timing.Run run) throws Exception {
        Timing.rate(1, Math.min(1, seconds), run); // warm-up
        return Timing.rate(1, seconds, run) * recordBytes / 1e6;
    }

    private static TokenRecord tokenRecord() {
        SplittableRandom random = new SplittableRandom(1);
        ByteBuffer ids = ByteBuffer.allocate(SO400M_TOKENS * 2);
        for (int i = 0; i < SO400M_TOKENS; i++) {
            ids.putShort((short) random.nextInt(16384));
        }
        return TokenRecord.newBuilder()
                .setId("bench/0001.jpg")
                .setImageSha256("0".repeat(64))
                .setModelId("vqrae-so400m-256")
                .setModelVersion("0.1.0")
                .setCodebookSha256("0".repeat(64))
                .setGridHeight(16)
                .setGridWidth(16)
                .setCodebookSize(16384)
                .setDtype(TokenIdType.uint16)
                .setTokenIds(ids.flip())
                .setMeanQuantError(0.5f)
                .setSourceTopic("vqrae.images")
                .setSourcePartition(0)
                .setSourceOffset(1L)
                .setProcessedAt(Instant.ofEpochMilli(0))
                .build();
    }

    private static FeatureRecord featureRecord() {
        SplittableRandom random = new SplittableRandom(2);
        // Values spread like an encoder's features: to a compressor, float16 noise.
        float[] floats = new float[SO400M_TOKENS * SO400M_FEATURE_DIM];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = (float) (random.nextDouble() * 4 - 2);
        }
        byte[] values = FeatureDtype.FLOAT16.encode(floats, 0, floats.length);
        return FeatureRecord.newBuilder()
                .setId("bench/0001.jpg")
                .setImageSha256("0".repeat(64))
                .setModelId("vqrae-so400m-256")
                .setModelVersion("0.1.0")
                .setCodebookSha256("0".repeat(64))
                .setKind(FeatureKind.per_token)
                .setShape(List.of(SO400M_TOKENS, SO400M_FEATURE_DIM))
                .setDtype(FeatureValueType.float16)
                .setValues(ByteBuffer.wrap(values))
                .setSourceTopic("vqrae.images")
                .setSourcePartition(0)
                .setSourceOffset(1L)
                .setProcessedAt(Instant.ofEpochMilli(0))
                .build();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
