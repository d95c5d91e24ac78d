package io.vqrae.pipeline.kafka;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import io.vqrae.schemas.versions.ReleasedSchemas;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads everything committed so far on the job's output topics, with {@code isolation.level=read_committed}
 * (the only way to see exactly-once output: records of aborted transactions are still in the log).
 */
public final class OutputReader {
    private static final Duration POLL = Duration.ofMillis(200);

    private OutputReader() {}

    /** The committed outputs of a run. */
    public record Outputs(List<TokenRecord> tokens, List<FeatureRecord> features, List<DeadLetterRecord> deadLetters) {}

    public static Outputs readCommitted(JobConfig.Kafka kafka, Duration timeout) {
        JobConfig.Topics topics = kafka.topics();
        return new Outputs(
                read(kafka, topics.tokens(), ReleasedSchemas.decoder(TokenRecord.class), timeout),
                read(kafka, topics.features(), ReleasedSchemas.decoder(FeatureRecord.class), timeout),
                read(kafka, topics.deadLetter(), ReleasedSchemas.decoder(DeadLetterRecord.class), timeout));
    }

    /** Every committed record of {@code topic} up to its last stable offset at call time. */
    public static <T> List<T> read(JobConfig.Kafka kafka, String topic, BinaryMessageDecoder<T> decoder, Duration timeout) {
        List<T> out = new ArrayList<>();
        forEach(kafka, topic, decoder, timeout, out::add);
        return out;
    }

    /**
     * Hands each committed record of {@code topic} up to its last stable offset at call time to {@code action},
     * as it is read; fails when {@code timeout} passes without a record while the end is not reached.
     *
     * @throws IllegalArgumentException if the topic does not exist (reading never creates it)
     */
    public static <T> void forEach(JobConfig.Kafka kafka, String topic, BinaryMessageDecoder<T> decoder, Duration timeout, Consumer<T> action) {
        Properties props = KafkaClients.properties(kafka);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            if (partitions.isEmpty()) {
                throw new IllegalArgumentException("Topic " + topic + " does not exist");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reachedEnd(consumer, end)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Timed out reading " + topic + " up to " + end);
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    T decoded;
                    try {
                        decoded = decoder.decode(record.value());
                    } catch (IOException e) {
                        throw new UncheckedIOException("Bad record at " + record.topic() + "-" + record.partition() + "@" + record.offset(), e);
                    }
                    action.accept(decoded);
                }
                if (!records.isEmpty()) {
                    // The timeout bounds a wait without progress: a slow action must not fail a long read.
                    deadline = System.nanoTime() + timeout.toNanos();
                }
            }
        }
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
