package io.vqrae.pipeline.kafka;

import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.operators.metrics.MetricsSpec;
import io.vqrae.pipeline.config.JobConfig;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Routes each already-serialized output record to its topic by kind. One sink writes all three topics,
 * so an image's token and feature records are committed in the same Kafka transaction.
 */
public final class EncodedRecordSerializer implements KafkaRecordSerializationSchema<EncodedRecord> {
    private static final long serialVersionUID = 1L;

    private final String tokensTopic;
    private final String featuresTopic;
    private final String deadLetterTopic;
    private final MetricsSpec metrics;

    private transient JobMetrics jobMetrics;

    public EncodedRecordSerializer(JobConfig.Topics topics, MetricsSpec metrics) {
        this.tokensTopic = topics.tokens();
        this.featuresTopic = topics.features();
        this.deadLetterTopic = topics.deadLetter();
        this.metrics = metrics;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        jobMetrics = JobMetrics.withoutEndpoint(metrics, sinkContext.getParallelInstanceId());
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(EncodedRecord record, KafkaSinkContext context, Long timestamp) {
        String topic = switch (record.kind()) {
            case TOKENS -> tokensTopic;
            case FEATURES -> featuresTopic;
            case DEAD_LETTER -> deadLetterTopic;
            // Deduplication belongs to corpus jobs, whose outputs are files.
            case DUPLICATE -> throw new IllegalStateException("The Kafka outputs have no topic for duplicates");
        };
        byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
        jobMetrics.written(topic, (key == null ? 0 : key.length) + record.value().length);
        return new ProducerRecord<>(topic, null, timestamp, key, record.value());
    }
}
