package io.vqrae.pipeline.job;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.decode.DecodeFunction;
import io.vqrae.operators.decode.DecodeOptions;
import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.EncoderOptions;
import io.vqrae.operators.encode.RecordEncoder;
import io.vqrae.operators.tokenize.BatchingTokenizerOperator;
import io.vqrae.operators.tokenize.TokenizerOptions;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.kafka.EncodedRecordSerializer;
import io.vqrae.pipeline.kafka.ImageRecordDeserializer;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.RecordSizing;
import io.vqrae.pipeline.kafka.TopicProvisioner;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The streaming job: {@code KafkaSource<ImageRecord>} -> decode + preprocess -> batching tokenizer ->
 * token / feature / dead-letter records -> one exactly-once {@code KafkaSink}.
 *
 * <p>{@link #prepare} checks the model and provisions topics on the client, before anything is
 * submitted; {@link #attach} wires the whole job into an environment. The pieces are public so a test can
 * put an operator between them (e.g. a failure injector) without rebuilding the job.
 */
public final class TokenizeJob {
    private final JobConfig config;
    private final String modelDir;
    private final int wantedRecordBytes;
    private final int recordLimit;

    private TokenizeJob(JobConfig config, String modelDir, int wantedRecordBytes, int recordLimit) {
        this.config = config;
        this.modelDir = modelDir;
        this.wantedRecordBytes = wantedRecordBytes;
        this.recordLimit = recordLimit;
    }

    /**
     * Loads the model manifest (failing early on a bad model directory), sizes records, creates missing
     * topics, and checks that a dead letter with its original bytes fits the record limit that results.
     */
    public static TokenizeJob prepare(JobConfig config) throws ModelLoadException, InterruptedException {
        Path dir = Path.of(config.model().dir()).toAbsolutePath().normalize();
        ModelManifest manifest = ModelManifest.load(dir);
        int wanted = RecordSizing.maxRecordBytes(config, manifest);
        int limit = TopicProvisioner.provision(config, wanted);
        // Checked against the effective limit: an existing output topic may take less than wanted.
        int maxOriginal = limit - RecordSizing.HEADROOM_BYTES;
        if (config.limits().deadLetterMaxOriginalBytes() > maxOriginal) {
            throw new ConfigException("limits.dead-letter-max-original-bytes",
                    "must be at most " + Math.max(0, maxOriginal) + ": the record limit of " + limit + " bytes (kafka.max-record-bytes"
                            + " or the model's sizing, lowered to the smallest max.message.bytes of the output topics) less "
                            + RecordSizing.HEADROOM_BYTES + " for the rest of the dead letter");
        }
        return new TokenizeJob(config, dir.toString(), wanted, limit);
    }

    /** Wires the whole job into {@code env}. */
    public void attach(StreamExecutionEnvironment env) {
        configure(env);
        DataStream<InputImage> images = env.fromSource(source(), WatermarkStrategy.noWatermarks(), "images")
                .uid("kafka-source")
                .setParallelism(config.parallelism().source());
        process(images).sinkTo(sink()).name("outputs").uid("kafka-sink").setParallelism(config.parallelism().tokenizer());
    }

    /**
     * Exactly-once checkpoints (they commit the sink's transactions) and no Kryo: every element type must
     * have a Flink serializer, so a type change that would fall back to generic serialization fails fast.
     */
    public void configure(StreamExecutionEnvironment env) {
        env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        env.configure(conf);
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
    public DataStream<EncodedRecord> process(DataStream<InputImage> images) {
        JobConfig.Limits limits = config.limits();
        DecodeOptions decodeOptions = DecodeOptions.builder(modelDir)
                .maxPixels(limits.maxPixels())
                .maxInputBytes(limits.maxImageBytes())
                .maxDeadLetterBytes(limits.deadLetterMaxOriginalBytes())
                .build();
        SingleOutputStreamOperator<PreprocessedImage> decoded = images
                .process(new DecodeFunction(decodeOptions))
                .name("decode")
                .uid("decode");
        // Unset, decode takes the environment's default parallelism: what the cluster was sized for,
        // unlike anything this client JVM could measure.
        if (config.parallelism().decode() > 0) {
            decoded.setParallelism(config.parallelism().decode());
        }

        JobConfig.Model model = config.model();
        TokenizerOptions tokenizerOptions = TokenizerOptions.builder(modelDir)
                .provider(model.provider())
                .deviceIds(model.deviceIds())
                .intraOpThreads(model.intraOpThreads())
                .maxBatchSize(config.batching().maxSize())
                .maxBatchDelay(config.batching().maxDelay())
                .featureMode(config.features().mode())
                .featureDtype(config.features().dtype())
                .build();
        SingleOutputStreamOperator<TokenizedImage> tokenized = decoded
                .transform("tokenize", TypeInformation.of(TokenizedImage.class), new BatchingTokenizerOperator(tokenizerOptions))
                .uid("tokenize")
                .setParallelism(config.parallelism().tokenizer());

        DataStream<Rejection> rejected = decoded.getSideOutput(DecodeFunction.REJECTED)
                .union(tokenized.getSideOutput(BatchingTokenizerOperator.REJECTED));
        EncoderOptions encoderOptions = new EncoderOptions(
                modelDir, config.features().mode(), config.features().dtype(), recordLimit);
        return tokenized.connect(rejected)
                .flatMap(new RecordEncoder(encoderOptions))
                .returns(EncodedRecord.class)
                .name("encode")
                .uid("encode")
                .setParallelism(config.parallelism().tokenizer());
    }

    /**
     * One exactly-once sink for all three topics: an image's token and feature records commit in the
     * same transaction, visible to {@code read_committed} consumers when the checkpoint completes.
     */
    public KafkaSink<EncodedRecord> sink() {
        JobConfig.Kafka kafka = config.kafka();
        Properties props = KafkaClients.properties(kafka);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(wantedRecordBytes));
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, kafka.compression());
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(kafka.transactionTimeout().toMillis()));
        return KafkaSink.<EncodedRecord>builder()
                .setBootstrapServers(kafka.bootstrapServers())
                .setKafkaProducerConfig(props)
                .setRecordSerializer(new EncodedRecordSerializer(kafka.topics()))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(kafka.transactionalIdPrefix())
                .build();
    }
}
