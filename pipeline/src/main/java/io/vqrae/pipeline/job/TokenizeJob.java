package io.vqrae.pipeline.job;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.kafka.EncodedRecordSerializer;
import io.vqrae.pipeline.kafka.ConsumerLagTracker;
import io.vqrae.pipeline.kafka.ImageRecordDeserializer;
import io.vqrae.pipeline.kafka.KafkaClients;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The streaming job: {@code KafkaSource<ImageRecord>} -> decode + preprocess -> batching tokenizer ->
 * token / feature / dead-letter records -> one exactly-once {@code KafkaSink}.
 *
 * <p>Built from a {@link JobPlan} resolved on the client; {@link #attach} wires the whole job into an
 * environment. The pieces are public so a test can put an operator between them (e.g. a failure
 * injector) without rebuilding the job.
 */
public final class TokenizeJob {
    private final JobPlan plan;
    private final JobConfig config;

    public TokenizeJob(JobPlan plan) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.config = plan.config();
    }

    /** Wires the whole job into {@code env}. */
    public void attach(StreamExecutionEnvironment env) {
        configure(env);
        DataStream<InputImage> images = env.fromSource(source(), WatermarkStrategy.noWatermarks(), "images")
                .uid("kafka-source")
                .setParallelism(config.parallelism().source())
                .map(new ConsumerLagTracker(KafkaClients.properties(config.kafka()), plan.metrics()))
                .name("consumer-lag")
                .uid("consumer-lag")
                .setParallelism(config.parallelism().source());
        records(process(images)).sinkTo(sink()).name("outputs").uid("kafka-sink").setParallelism(config.parallelism().tokenizer());
    }

    /** Exactly-once checkpoints and no Kryo (see {@link ImageStages#configure}). */
    public void configure(StreamExecutionEnvironment env) {
        ImageStages.configure(env, config);
    }

    public KafkaSource<InputImage> source() {
        JobConfig.Kafka kafka = config.kafka();
        OffsetsInitializer start = switch (kafka.startingOffsets()) {
            case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
        Properties props = KafkaClients.properties(kafka);
        // Inputs may themselves be written transactionally; never process an aborted image.
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        var builder = KafkaSource.<InputImage>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setTopics(kafka.topics().input())
                .setGroupId(kafka.groupId())
                .setStartingOffsets(start)
                .setProperties(props)
                .setDeserializer(new ImageRecordDeserializer());
        if (kafka.bounded()) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /** Decode, tokenize and encode: the Kafka-independent middle of the job. */
    public DataStream<EncodedSample> process(DataStream<InputImage> images) {
        return ImageStages.process(plan, images);
    }

    /**
     * Each input's records, one element each, for the sink: chained to the encoder, so an image's token and
     * feature records still go out together and commit in the same transaction.
     */
    public DataStream<EncodedRecord> records(DataStream<EncodedSample> samples) {
        return samples.flatMap((EncodedSample sample, Collector<EncodedRecord> out) -> sample.records().forEach(out::collect))
                .returns(EncodedRecord.class)
                .name("records").uid("records")
                .setParallelism(config.parallelism().tokenizer());
    }

    /** Largest pooled producer batch: 2 MiB holds a so400m per-token float32 feature record (1.2 MB). */
    static final int MAX_PRODUCER_BATCH_BYTES = 2 * 1024 * 1024;

    /** The sink producer's batch.size: the largest output record, up to {@link #MAX_PRODUCER_BATCH_BYTES}. */
    static int producerBatchBytes(int maxRecordBytes) {
        return Math.min(maxRecordBytes, MAX_PRODUCER_BATCH_BYTES);
    }

    /**
     * One exactly-once sink for all three topics: an image's token and feature records commit in the
     * same transaction, visible to {@code read_committed} consumers when the checkpoint completes.
     */
    public KafkaSink<EncodedRecord> sink() {
        JobConfig.Kafka kafka = config.kafka();
        Properties props = KafkaClients.properties(kafka);
        // The encoder lets no record over this limit through, so the producer never refuses one.
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(plan.records().maxRecordBytes()));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, kafka.compression().kafkaName());
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(kafka.transactionTimeout().toMillis()));
        // A record larger than batch.size (16 KiB by default; a feature record is 64 KiB to over 1 MiB) gets a
        // batch of its own, allocated outside the producer's buffer pool and sent in a request of its own: at
        // the job's rates that cost a third of the null-model pipeline's CPU (docs/BENCHMARKS.md). Batches
        // that hold a feature record come from the pool and share requests. A user's batch.size wins.
        props.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(producerBatchBytes(plan.records().maxRecordBytes())));
        return KafkaSink.<EncodedRecord>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setKafkaProducerConfig(props)
                .setRecordSerializer(new EncodedRecordSerializer(kafka.topics(), plan.metrics()))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(kafka.transactionalIdPrefix())
                .build();
    }
}
