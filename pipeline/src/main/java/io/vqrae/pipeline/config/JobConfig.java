package io.vqrae.pipeline.config;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.onnx.ModelConfig;
import io.vqrae.operators.decode.InputLimits;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.operators.metrics.MetricsConfig;
import io.vqrae.operators.report.ReportConfig;
import io.vqrae.operators.tokenize.Batching;
import io.vqrae.operators.tokenize.FeatureOutput;
import io.vqrae.pipeline.storage.S3Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The job's configuration, bound from YAML (and {@code --set key=value} overrides) by Jackson into these
 * records. Each section is the one type of its settings: the operators take the same records
 * ({@link ModelConfig}, {@link FeatureOutput}, {@link Batching}, {@link InputLimits}), every record checks its
 * own values when constructed, and every default is written once, by name, in its section's {@code DEFAULT}
 * ({@link #DEFAULTS} gathers them). Keys are the components' names in kebab case ({@code batching.max-size});
 * docs/pipeline.md lists them.
 *
 * <p>In code, a section of more than one setting is built by name from its defaults, with a builder as Flink's
 * {@code KafkaSource.builder()} ({@code Kafka.DEFAULT.with(kafka -> kafka.bootstrapServers("broker:9092").bounded(true))})
 * or a wither ({@code config.withKafka(config.kafka().withBootstrapServers("broker:9092"))}): RecordBuilder generates
 * both, and the records' constructors check what they build.
 *
 * @param kafka brokers, topics and client settings
 * @param model which model and where it runs
 * @param features which semantic features are written
 * @param batching the tokenizer's micro-batch bounds
 * @param parallelism stage parallelism
 * @param limits input limits and how much of a rejected input a dead letter keeps
 * @param checkpoint checkpointing, which also commits the Kafka transactions
 * @param metrics the Prometheus endpoint, tokenizer-health metrics and live view
 * @param corpus the file outputs and deduplication of corpus jobs ({@code bin/vqrae tokenize-corpus})
 * @param report the run report's prices and how often a streaming job logs it
 * @param s3 Flink's {@code s3.*} filesystem settings for local runs (endpoint, path style, credentials); a cluster
 *     takes them from its Flink configuration
 */
@RecordBuilder
public record JobConfig(
        Kafka kafka, ModelConfig model, FeatureOutput features, Batching batching, Parallelism parallelism,
        InputLimits limits, Checkpoint checkpoint, MetricsConfig metrics, Corpus corpus, ReportConfig report, S3Settings s3)
        implements JobConfigBuilder.With {

    /** Every default of the job, in one place: each section's defaults. */
    public static final JobConfig DEFAULTS = JobConfigBuilder.builder()
            .kafka(Kafka.DEFAULT)
            .model(ModelConfig.DEFAULT)
            .features(FeatureOutput.DEFAULT)
            .batching(Batching.DEFAULT)
            .parallelism(Parallelism.DEFAULT)
            .limits(InputLimits.DEFAULT)
            .checkpoint(Checkpoint.DEFAULT)
            .metrics(MetricsConfig.DEFAULT)
            .corpus(Corpus.DEFAULT)
            .report(ReportConfig.DEFAULT)
            .s3(S3Settings.NONE)
            .build();

    public JobConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(batching, "batching");
        Objects.requireNonNull(parallelism, "parallelism");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(corpus, "corpus");
        Objects.requireNonNull(report, "report");
        Objects.requireNonNull(s3, "s3");
        if (kafka.transactionTimeout().compareTo(checkpoint.interval()) <= 0) {
            throw new InvalidSettingException("kafka.transaction-timeout", "must be longer than checkpoint.interval ("
                    + checkpoint.interval() + "), or transactions abort before they commit");
        }
    }

    /**
     * Kafka settings.
     *
     * @param bootstrapServers broker list
     * @param topics topic names
     * @param groupId consumer group of the source (offsets are committed on checkpoints, for monitoring)
     * @param transactionalIdPrefix prefix of the sink's transactional ids; unique per job on a cluster
     * @param startingOffsets where a fresh job (no checkpoint) starts
     * @param bounded whether the job stops at the input offsets current when it starts
     * @param createTopics whether missing topics are created at start
     * @param topicPartitions partitions of created topics
     * @param replicationFactor replication of created topics
     * @param compression producer {@code compression.type}
     * @param maxRecordBytes largest output record; 0 = sized from the model (see {@link RecordLimits}), else
     *     at least {@value RecordLimits#MIN_RECORD_BYTES}
     * @param transactionTimeout producer {@code transaction.timeout.ms}; must not exceed the broker's
     *     {@code transaction.max.timeout.ms} (15 min by default) and must exceed the checkpoint interval
     * @param properties passed unchanged to every Kafka client (security.protocol, sasl.*, ssl.*); they hold
     *     passwords and JAAS configurations, so their values never show in {@link #toString}
     */
    @RecordBuilder
    public record Kafka(
            String bootstrapServers, Topics topics, String groupId, String transactionalIdPrefix, StartingOffsets startingOffsets,
            boolean bounded, boolean createTopics, int topicPartitions, int replicationFactor, Compression compression,
            int maxRecordBytes, Duration transactionTimeout, Map<String, String> properties) implements JobConfigKafkaBuilder.With {

        /** The section's defaults. */
        public static final Kafka DEFAULT = JobConfigKafkaBuilder.builder()
                .bootstrapServers("localhost:9092")
                .topics(Topics.DEFAULT)
                .groupId("vqrae-tokenizer")
                .transactionalIdPrefix("vqrae-tokenizer")
                .startingOffsets(StartingOffsets.COMMITTED)
                .bounded(false)
                .createTopics(true)
                .topicPartitions(1)
                .replicationFactor(1)
                .compression(Compression.LZ4)
                .maxRecordBytes(0)
                .transactionTimeout(Duration.ofMinutes(15))
                .properties(Map.of())
                .build();

        public Kafka {
            InvalidSettingException.requireNonBlank("bootstrap-servers", bootstrapServers);
            InvalidSettingException.requireSet("topics", topics);
            InvalidSettingException.requireNonBlank("group-id", groupId);
            InvalidSettingException.requireNonBlank("transactional-id-prefix", transactionalIdPrefix);
            InvalidSettingException.requireSet("starting-offsets", startingOffsets);
            InvalidSettingException.requireBetween("topic-partitions", topicPartitions, 1, Integer.MAX_VALUE);
            InvalidSettingException.requireBetween("replication-factor", replicationFactor, 1, Short.MAX_VALUE);
            InvalidSettingException.requireSet("compression", compression);
            if (maxRecordBytes != 0 && maxRecordBytes < RecordLimits.MIN_RECORD_BYTES) {
                throw new InvalidSettingException("max-record-bytes",
                        "must be 0 (sized from the model) or at least " + RecordLimits.MIN_RECORD_BYTES + ", got " + maxRecordBytes);
            }
            requireIntMillis("transaction-timeout", transactionTimeout);
            properties = HiddenValues.copyOf(InvalidSettingException.requireSet("properties", properties));
        }
    }

    /** Topic names. */
    @RecordBuilder
    public record Topics(String input, String tokens, String features, String deadLetter) implements JobConfigTopicsBuilder.With {
        /** The section's defaults. */
        public static final Topics DEFAULT = JobConfigTopicsBuilder.builder()
                .input("vqrae.images")
                .tokens("vqrae.tokens")
                .features("vqrae.features")
                .deadLetter("vqrae.dead-letter")
                .build();

        public Topics {
            InvalidSettingException.requireNonBlank("input", input);
            InvalidSettingException.requireNonBlank("tokens", tokens);
            InvalidSettingException.requireNonBlank("features", features);
            InvalidSettingException.requireNonBlank("dead-letter", deadLetter);
        }
    }

    /**
     * Separate parallelism for the CPU-bound decode stage and the accelerator-bound tokenizer.
     *
     * @param source source parallelism
     * @param decode decode parallelism; 0 = the environment's default parallelism (under {@code flink run}
     *     {@code -p} or the cluster's {@code parallelism.default}), which the cluster has slots for
     * @param tokenizer tokenizer (and encode and sink) parallelism
     */
    @RecordBuilder
    public record Parallelism(int source, int decode, int tokenizer) implements JobConfigParallelismBuilder.With {
        /** The section's defaults. */
        public static final Parallelism DEFAULT = JobConfigParallelismBuilder.builder().source(1).decode(0).tokenizer(1).build();

        public Parallelism {
            InvalidSettingException.requireBetween("source", source, 1, Short.MAX_VALUE);
            InvalidSettingException.requireBetween("decode", decode, 0, Short.MAX_VALUE);
            InvalidSettingException.requireBetween("tokenizer", tokenizer, 1, Short.MAX_VALUE);
        }
    }

    /**
     * Checkpointing.
     *
     * @param interval how often Flink checkpoints; also how often the Kafka transaction commits, i.e. the
     *     latency at which read_committed consumers see output
     */
    public record Checkpoint(Duration interval) {
        /** The section's defaults. */
        public static final Checkpoint DEFAULT = new Checkpoint(Duration.ofSeconds(10));

        public Checkpoint {
            requireIntMillis("interval", interval);
        }
    }

    /**
     * Corpus jobs: files in, files out.
     *
     * @param format how tokens and features are written
     * @param samplesPerShard a WebDataset shard is closed once it holds this many samples
     * @param shardBytes a WebDataset shard is closed once it holds this many bytes, after the sample that took it
     *     there (a sample is never cut); an Avro or Parquet part file at the next record, and at every checkpoint
     * @param dedup whether an image whose bytes (SHA-256) were seen before is recorded as a duplicate instead
     *     of being tokenized again
     * @param dedupTtl how long an image is remembered for deduplication after it was last seen; 0 = forever
     *     (state grows by about 200 bytes per distinct image, and with WebDataset output by its token record,
     *     about 0.7 KB, too; use RocksDB state for large corpora)
     */
    @RecordBuilder
    public record Corpus(OutputFormat format, int samplesPerShard, long shardBytes, boolean dedup, Duration dedupTtl)
            implements JobConfigCorpusBuilder.With {
        /** The section's defaults. */
        public static final Corpus DEFAULT = JobConfigCorpusBuilder.builder()
                .format(OutputFormat.WEBDATASET)
                .samplesPerShard(10_000)
                .shardBytes(512L << 20)
                .dedup(false)
                .dedupTtl(Duration.ZERO)
                .build();

        public Corpus {
            InvalidSettingException.requireSet("format", format);
            InvalidSettingException.requireBetween("samples-per-shard", samplesPerShard, 1, Integer.MAX_VALUE);
            InvalidSettingException.requireBetween("shard-bytes", shardBytes, 1, Long.MAX_VALUE);
            InvalidSettingException.requireSet("dedup-ttl", dedupTtl);
            if (dedupTtl.isNegative()) {
                throw new InvalidSettingException("dedup-ttl", "must not be negative, got " + dedupTtl);
            }
        }
    }

    /** The file layout of a corpus job's tokens and features (docs/corpora.md). */
    public enum OutputFormat {
        /** WebDataset tar shards of {@code KEY.json}, {@code KEY.tokens.npy}, {@code KEY.features.npy}. */
        WEBDATASET,
        /** Avro object container files of TokenRecord and FeatureRecord. */
        AVRO,
        /** Parquet files of TokenRecord and FeatureRecord. */
        PARQUET
    }

    /** Where a job without a checkpoint starts reading. */
    public enum StartingOffsets {
        /** The group's committed offsets, falling back to the earliest. */
        COMMITTED,
        EARLIEST,
        LATEST
    }

    /** The producer's {@code compression.type}. */
    public enum Compression {
        NONE,
        GZIP,
        SNAPPY,
        LZ4,
        ZSTD;

        /** The value Kafka's {@code compression.type} takes. */
        public String kafkaName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** All defaults. */
    public static JobConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Reads a YAML file, then applies {@code overrides} (dotted keys, as from {@code --set}; a list is
     * written {@code [0, 1]}). Unknown keys and bad values fail with a {@link ConfigException} naming the key.
     */
    public static JobConfig load(Path yamlFile, Map<String, String> overrides) {
        return ConfigBinding.bind(ConfigBinding.readFile(yamlFile), overrides);
    }

    /** The defaults with {@code settings} applied (dotted keys; a list is written {@code [0, 1]}). */
    public static JobConfig fromMap(Map<String, String> settings) {
        return ConfigBinding.bind(null, settings);
    }

    /** Fails naming {@code setting} unless {@code value} is a positive duration of at most {@link Integer#MAX_VALUE} ms. */
    static Duration requireIntMillis(String setting, Duration value) {
        InvalidSettingException.requireSet(setting, value);
        // Kafka's *.ms settings are ints, and a timer deadline of now plus the duration must not overflow.
        if (value.isNegative() || value.isZero() || value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            throw new InvalidSettingException(setting, "must be between 1ms and " + Integer.MAX_VALUE + "ms (about 24 days), got " + value);
        }
        return value;
    }
}
