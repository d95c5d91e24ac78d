package io.vqrae.pipeline.job;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.ModelConfig;
import io.vqrae.operators.model.ModelCache;
import io.vqrae.operators.decode.DecodeSpec;
import io.vqrae.operators.encode.EncoderSpec;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.operators.metrics.MetricLabels;
import io.vqrae.operators.metrics.MetricsSpec;
import io.vqrae.operators.tokenize.TokenizerSpec;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.kafka.TopicProvisioner;
import java.util.Objects;

/**
 * A job resolved once, on the client, before anything is submitted: the configuration, the model's
 * manifest (loaded, every graph checked against its SHA-256), and the record limits (sized from the model,
 * capped by the topics that exist). Each operator gets its spec from here, holding the only copy of its
 * settings; no operator reads the manifest or the configuration again.
 *
 * @param config the job's configuration
 * @param manifest the verified model
 * @param records the record limits, after topic provisioning
 * @param jobName the Flink job name, which labels the job's metrics
 */
public record JobPlan(JobConfig config, ModelManifest manifest, RecordLimits records, String jobName) {

    public JobPlan {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(records, "records");
        Objects.requireNonNull(jobName, "jobName");
        int maxOriginal = records.maxOriginalBytes();
        if (config.limits().deadLetterMaxOriginalBytes() > maxOriginal) {
            throw new ConfigException("limits.dead-letter-max-original-bytes",
                    "must be at most " + Math.max(0, maxOriginal) + ": the record limit of " + records.maxRecordBytes()
                            + " bytes (kafka.max-record-bytes or the model's sizing, lowered to the smallest max.message.bytes"
                            + " of the output topics) less " + RecordLimits.HEADROOM_BYTES + " for the rest of the dead letter");
        }
    }

    /**
     * Loads and verifies the model, sizes records, creates missing topics and checks the job's Kafka
     * permissions (existing topics may lower the record limit).
     *
     * @throws ConfigException if the model directory or a limit is unusable
     * @throws io.vqrae.pipeline.kafka.KafkaUnreachableException if the Kafka cluster does not answer
     * @throws io.vqrae.pipeline.kafka.KafkaAccessException if the cluster does not authenticate the client or
     *     denies the job a permission it needs
     */
    public static JobPlan resolve(JobConfig config, String jobName) throws InterruptedException {
        ModelManifest manifest = loadModel(config);
        RecordLimits wanted = RecordLimits.forModel(manifest, config.features(), config.limits(), config.kafka().maxRecordBytes());
        return new JobPlan(config, manifest, TopicProvisioner.provision(config.kafka(), wanted), jobName);
    }

    /**
     * Loads and verifies the model and sizes records, for a job that writes files: no topics to provision,
     * so the record limit is the model's sizing (or {@code kafka.max-record-bytes}).
     *
     * @throws ConfigException if the model directory or a limit is unusable
     */
    public static JobPlan forFiles(JobConfig config, String jobName) {
        ModelManifest manifest = loadModel(config);
        return new JobPlan(config, manifest,
                RecordLimits.forModel(manifest, config.features(), config.limits(), config.kafka().maxRecordBytes()), jobName);
    }

    /**
     * The verified manifest of {@code config.model().dir()}, a local path or a filesystem URI (copied into the
     * model cache here first, as each TaskManager will); a bad model directory is a configuration error.
     */
    public static ModelManifest loadModel(JobConfig config) {
        ModelConfig model = config.model();
        try {
            return ModelCache.isUri(model.dir()) ? ModelCache.in(model.cacheDir()).fetch(model.dir()) : model.loadManifest();
        } catch (ModelLoadException e) {
            throw ConfigException.of(e);
        }
    }

    /** The job's metrics settings and labels. */
    public MetricsSpec metrics() {
        return new MetricsSpec(config.metrics(), MetricLabels.of(jobName, manifest), config.report());
    }

    public DecodeSpec decode() {
        return new DecodeSpec(manifest, config.limits(), metrics());
    }

    public TokenizerSpec tokenizer() {
        return new TokenizerSpec(manifest, config.model(), config.batching(), config.features(), metrics());
    }

    public EncoderSpec encoder() {
        return new EncoderSpec(manifest, records, metrics());
    }
}
