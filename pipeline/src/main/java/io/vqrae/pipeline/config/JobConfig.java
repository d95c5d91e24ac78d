package io.vqrae.pipeline.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.operators.decode.DecodeOptions;
import io.vqrae.operators.tokenize.FeatureMode;
import io.vqrae.operators.tokenize.TokenizerOptions;
import io.vqrae.pipeline.kafka.RecordSizing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The streaming job's configuration: every key has a default (see docs/pipeline.md), values are
 * validated when loaded, and an error names the key at fault.
 *
 * @param kafka brokers, topics and client settings
 * @param model which model and where it runs
 * @param features which semantic features are written
 * @param batching the tokenizer's micro-batch bounds
 * @param parallelism stage parallelism
 * @param limits input and record size limits
 * @param checkpointInterval how often Flink checkpoints; also how often the Kafka transaction commits,
 *     i.e. the latency at which read_committed consumers see output
 */
public record JobConfig(
        Kafka kafka, Model model, Features features, Batching batching, Parallelism parallelism, Limits limits,
        Duration checkpointInterval) {

    public JobConfig {
        Objects.requireNonNull(kafka, "kafka");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(batching, "batching");
        Objects.requireNonNull(parallelism, "parallelism");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(checkpointInterval, "checkpointInterval");
    }

    /**
     * Kafka settings.
     *
     * @param bootstrapServers broker list
     * @param topics topic names
     * @param groupId consumer group of the source (offsets are committed on checkpoints, for monitoring)
     * @param transactionalIdPrefix prefix of the sink's transactional ids; unique per job on a cluster
     * @param startingOffsets where a fresh job (no checkpoint) starts: committed (falling back to
     *     earliest), earliest or latest
     * @param bounded whether the job stops at the input offsets current when it starts
     * @param createTopics whether missing output topics are created at start
     * @param topicPartitions partitions of created topics
     * @param replicationFactor replication of created topics
     * @param compression producer compression.type
     * @param maxRecordBytes largest output record; 0 = sized from the model (see RecordSizing), else at least
     *     64 KiB
     * @param transactionTimeout producer transaction.timeout.ms; must not exceed the broker's
     *     transaction.max.timeout.ms (15 min by default) and must exceed the checkpoint interval
     * @param clientProperties passed unchanged to every Kafka client (security.protocol, sasl.*, ssl.*)
     */
    public record Kafka(
            String bootstrapServers, Topics topics, String groupId, String transactionalIdPrefix, StartingOffsets startingOffsets,
            boolean bounded, boolean createTopics, int topicPartitions, short replicationFactor, String compression,
            int maxRecordBytes, Duration transactionTimeout, Map<String, String> clientProperties) {
        public Kafka {
            clientProperties = Map.copyOf(clientProperties);
        }
    }

    /** Topic names. */
    public record Topics(String input, String tokens, String features, String deadLetter) {}

    /**
     * Where the model lives and how its sessions run.
     *
     * @param dir model directory, the same path on every TaskManager
     * @param provider ONNX Runtime execution provider
     * @param deviceIds GPU ordinals; tokenizer subtask {@code i} uses {@code deviceIds[i % size]}
     * @param intraOpThreads ONNX Runtime intra-op threads, 0 = its choice
     */
    public record Model(String dir, ExecutionProvider provider, List<Integer> deviceIds, int intraOpThreads) {
        public Model {
            deviceIds = List.copyOf(deviceIds);
        }
    }

    /** Feature output. */
    public record Features(FeatureMode mode, FeatureDtype dtype) {}

    /** Micro-batch bounds of the tokenizer. */
    public record Batching(int maxSize, Duration maxDelay) {}

    /**
     * Separate parallelism for the CPU-bound decode stage and the accelerator-bound tokenizer.
     *
     * @param source source parallelism
     * @param decode decode parallelism; 0 = the environment's default parallelism (under {@code flink run}
     *     {@code -p} or the cluster's {@code parallelism.default}), which the cluster has slots for
     * @param tokenizer tokenizer (and encode and sink) parallelism
     */
    public record Parallelism(int source, int decode, int tokenizer) {}

    /** Input limits and how much of a rejected input a dead letter keeps. */
    public record Limits(long maxPixels, int maxImageBytes, int deadLetterMaxOriginalBytes) {}

    /** Where a job without a checkpoint starts reading. */
    public enum StartingOffsets {
        COMMITTED,
        EARLIEST,
        LATEST;

        static StartingOffsets parse(String value) {
            try {
                return valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("expected committed, earliest or latest, got '" + value + "'");
            }
        }
    }

    /** All defaults. */
    public static JobConfig defaults() {
        return fromMap(Map.of());
    }

    /** Reads a YAML file, then applies {@code overrides} (dotted keys, as from the command line). */
    public static JobConfig load(Path yamlFile, Map<String, String> overrides) throws IOException {
        Map<String, String> flat = new LinkedHashMap<>();
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(yamlFile));
        if (root != null && !root.isMissingNode() && !root.isNull()) {
            if (!root.isObject()) {
                throw new ConfigException("(root)", yamlFile + " must hold a mapping of keys");
            }
            flatten("", root, flat);
        }
        flat.putAll(overrides);
        return fromMap(flat);
    }

    /** Builds a config from dotted keys; unknown keys and bad values fail naming the key. */
    public static JobConfig fromMap(Map<String, String> flat) {
        Settings s = new Settings(flat);
        Topics topics = new Topics(
                s.nonBlank("kafka.topics.input", "vqrae.images"),
                s.nonBlank("kafka.topics.tokens", "vqrae.tokens"),
                s.nonBlank("kafka.topics.features", "vqrae.features"),
                s.nonBlank("kafka.topics.dead-letter", "vqrae.dead-letter"));
        Duration checkpointInterval = s.duration("checkpoint.interval", Duration.ofSeconds(10));
        Duration transactionTimeout = s.duration("kafka.transaction-timeout", Duration.ofMinutes(15));
        if (transactionTimeout.compareTo(checkpointInterval) <= 0) {
            throw new ConfigException("kafka.transaction-timeout",
                    "must be longer than checkpoint.interval (" + checkpointInterval + "), or transactions abort before they commit");
        }
        Kafka kafka = new Kafka(
                s.nonBlank("kafka.bootstrap-servers", "localhost:9092"),
                topics,
                s.nonBlank("kafka.group-id", "vqrae-tokenizer"),
                s.nonBlank("kafka.transactional-id-prefix", "vqrae-tokenizer"),
                s.parsed("kafka.starting-offsets", "committed", StartingOffsets::parse),
                s.bool("kafka.bounded", false),
                s.bool("kafka.create-topics", true),
                s.integer("kafka.topic-partitions", 1, 1),
                (short) s.integer("kafka.replication-factor", 1, 1, Short.MAX_VALUE),
                s.parsed("kafka.compression", "lz4", JobConfig::compression),
                maxRecordBytes(s),
                transactionTimeout,
                s.withPrefix("kafka.properties"));
        Model model = new Model(
                s.nonBlank("model.dir", "models/tiny"),
                s.parsed("model.provider", "cpu", ExecutionProvider::parse),
                s.integers("model.device-ids", List.of(0), 0),
                s.integer("model.intra-op-threads", 0, 0));
        Features features = new Features(
                s.parsed("features.mode", "per-token", FeatureMode::parse),
                s.parsed("features.dtype", "float16", FeatureDtype::parse));
        Batching batching = new Batching(
                s.integer("batching.max-size", 16, 1, TokenizerOptions.MAX_BATCH_SIZE),
                s.duration("batching.max-delay", Duration.ofMillis(50)));
        Parallelism parallelism = new Parallelism(
                s.integer("parallelism.source", 1, 1),
                s.integer("parallelism.decode", 0, 0),
                s.integer("parallelism.tokenizer", 1, 1));
        Limits limits = new Limits(
                s.longValue("limits.max-pixels", 64L * 1024 * 1024, 1, DecodeOptions.MAX_PIXELS),
                s.integer("limits.max-image-bytes", 32 * 1024 * 1024, 1),
                s.integer("limits.dead-letter-max-original-bytes", 256 * 1024, 0));
        s.requireAllRead();
        return new JobConfig(kafka, model, features, batching, parallelism, limits, checkpointInterval);
    }

    /** 0 (sized from the model) or enough for a dead letter besides its original bytes. */
    private static int maxRecordBytes(Settings s) {
        int value = s.integer("kafka.max-record-bytes", 0, 0);
        if (value != 0 && value < RecordSizing.HEADROOM_BYTES) {
            throw new ConfigException("kafka.max-record-bytes",
                    "must be 0 (sized from the model) or at least " + RecordSizing.HEADROOM_BYTES + ", got " + value);
        }
        return value;
    }

    private static String compression(String value) {
        return switch (value) {
            case "none", "gzip", "snappy", "lz4", "zstd" -> value;
            default -> throw new IllegalArgumentException("expected none, gzip, snappy, lz4 or zstd, got '" + value + "'");
        };
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out));
        } else if (node.isArray()) {
            // Lists of scalars take the comma-separated form that --set and Settings use.
            List<String> items = new ArrayList<>();
            for (JsonNode item : node) {
                if (!item.isValueNode()) {
                    throw new ConfigException(prefix, "only lists of plain values are supported");
                }
                items.add(item.asText());
            }
            out.put(prefix, String.join(",", items));
        } else if (!node.isNull()) {
            out.put(prefix, node.asText());
        }
    }
}
