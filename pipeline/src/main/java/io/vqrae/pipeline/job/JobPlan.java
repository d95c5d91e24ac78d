package io.vqrae.pipeline.job;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.operators.decode.DecodeSpec;
import io.vqrae.operators.encode.EncoderSpec;
import io.vqrae.operators.encode.RecordLimits;
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
 */
public record JobPlan(JobConfig config, ModelManifest manifest, RecordLimits records) {

    public JobPlan {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(records, "records");
        int maxOriginal = records.maxOriginalBytes();
        if (config.limits().deadLetterMaxOriginalBytes() > maxOriginal) {
            throw new ConfigException("limits.dead-letter-max-original-bytes",
                    "must be at most " + Math.max(0, maxOriginal) + ": the record limit of " + records.maxRecordBytes()
                            + " bytes (kafka.max-record-bytes or the model's sizing, lowered to the smallest max.message.bytes"
                            + " of the output topics) less " + RecordLimits.HEADROOM_BYTES + " for the rest of the dead letter");
        }
    }

    /**
     * Loads and verifies the model, sizes records, and creates missing topics (which may lower the record
     * limit to what existing topics take).
     *
     * @throws ConfigException if the model directory or a limit is unusable
     * @throws io.vqrae.pipeline.kafka.KafkaUnreachableException if the Kafka cluster does not answer
     */
    public static JobPlan resolve(JobConfig config) throws InterruptedException {
        ModelManifest manifest = loadModel(config);
        RecordLimits wanted = RecordLimits.forModel(manifest, config.features(), config.limits(), config.kafka().maxRecordBytes());
        return new JobPlan(config, manifest, TopicProvisioner.provision(config.kafka(), wanted));
    }

    /** The verified manifest of {@code config.model().dir()}; a bad model directory is a configuration error. */
    public static ModelManifest loadModel(JobConfig config) {
        try {
            return config.model().loadManifest();
        } catch (ModelLoadException e) {
            throw new ConfigException("model.dir", e.getMessage());
        }
    }

    public DecodeSpec decode() {
        return new DecodeSpec(manifest, config.limits());
    }

    public TokenizerSpec tokenizer() {
        return new TokenizerSpec(manifest, config.model(), config.batching(), config.features());
    }

    public EncoderSpec encoder() {
        return new EncoderSpec(manifest, records);
    }
}
