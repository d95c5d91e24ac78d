package io.vqrae.operators.tokenize;

import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.onnx.SessionConfig;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything the batching tokenizer needs, validated when built. The model directory is kept as a string
 * because {@link Path} is not serializable and the options travel inside the job graph.
 *
 * @param modelDir directory with the model manifest and graphs
 * @param provider ONNX Runtime execution provider
 * @param deviceIds GPU ordinals for CUDA; tokenizer subtask {@code i} uses {@code deviceIds[i % size]}, so
 *     with as many subtasks per TaskManager as it has GPUs each subtask gets its own GPU
 * @param intraOpThreads ONNX Runtime intra-op threads; 0 lets it choose
 * @param maxBatchSize images per encoder run, at most {@value #MAX_BATCH_SIZE}; a buffer that reaches it is
 *     flushed at once
 * @param maxBatchDelay longest an image waits in a partial batch before the batch is flushed anyway
 * @param featureMode which features to emit
 * @param featureDtype number format of emitted features
 */
public record TokenizerOptions(
        String modelDir,
        ExecutionProvider provider,
        List<Integer> deviceIds,
        int intraOpThreads,
        int maxBatchSize,
        Duration maxBatchDelay,
        FeatureMode featureMode,
        FeatureDtype featureDtype) implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Largest {@code maxBatchSize}. Batches far beyond what fills an accelerator only add latency and
     * memory, and the session copies a batch into one buffer of at most 2 GiB: 4096 images of 384 x 384.
     */
    public static final int MAX_BATCH_SIZE = 4096;

    public TokenizerOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(maxBatchDelay, "maxBatchDelay");
        Objects.requireNonNull(featureMode, "featureMode");
        Objects.requireNonNull(featureDtype, "featureDtype");
        deviceIds = List.copyOf(Objects.requireNonNull(deviceIds, "deviceIds"));
        if (deviceIds.isEmpty() || deviceIds.stream().anyMatch(id -> id < 0)) {
            throw new IllegalArgumentException("deviceIds must be one or more ordinals >= 0, got " + deviceIds);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + intraOpThreads);
        }
        if (maxBatchSize < 1 || maxBatchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("maxBatchSize must be between 1 and " + MAX_BATCH_SIZE + ", got " + maxBatchSize);
        }
        if (maxBatchDelay.isNegative() || maxBatchDelay.isZero()) {
            throw new IllegalArgumentException("maxBatchDelay must be > 0, got " + maxBatchDelay);
        }
    }

    /** The session of tokenizer subtask {@code subtaskIndex}: on device {@code deviceIds[subtaskIndex % size]}. */
    public SessionConfig sessionConfig(int subtaskIndex) {
        return SessionConfig.builder()
                .modelDir(Path.of(modelDir))
                .provider(provider)
                .deviceId(deviceIds.get(subtaskIndex % deviceIds.size()))
                .intraOpThreads(intraOpThreads)
                .build();
    }

    public static Builder builder(String modelDir) {
        return new Builder(modelDir);
    }

    /** Defaults: CPU, devices [0], ORT's thread count, batches of 16 or 50 ms, per-token float16 features. */
    public static final class Builder {
        private final String modelDir;
        private ExecutionProvider provider = ExecutionProvider.CPU;
        private List<Integer> deviceIds = List.of(0);
        private int intraOpThreads;
        private int maxBatchSize = 16;
        private Duration maxBatchDelay = Duration.ofMillis(50);
        private FeatureMode featureMode = FeatureMode.PER_TOKEN;
        private FeatureDtype featureDtype = FeatureDtype.FLOAT16;

        private Builder(String modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
        }

        public Builder provider(ExecutionProvider provider) {
            this.provider = provider;
            return this;
        }

        public Builder deviceIds(List<Integer> deviceIds) {
            this.deviceIds = deviceIds;
            return this;
        }

        public Builder intraOpThreads(int intraOpThreads) {
            this.intraOpThreads = intraOpThreads;
            return this;
        }

        public Builder maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        public Builder maxBatchDelay(Duration maxBatchDelay) {
            this.maxBatchDelay = maxBatchDelay;
            return this;
        }

        public Builder featureMode(FeatureMode featureMode) {
            this.featureMode = featureMode;
            return this;
        }

        public Builder featureDtype(FeatureDtype featureDtype) {
            this.featureDtype = featureDtype;
            return this;
        }

        public TokenizerOptions build() {
            return new TokenizerOptions(
                    modelDir, provider, deviceIds, intraOpThreads, maxBatchSize, maxBatchDelay, featureMode, featureDtype);
        }
    }
}
