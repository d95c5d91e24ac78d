package io.vqrae.operators.tokenize;

import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.onnx.SessionConfig;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the batching tokenizer needs, validated when built. The model directory is kept as a string
 * because {@link Path} is not serializable and the options travel inside the job graph.
 *
 * @param modelDir directory with the model manifest and graphs
 * @param provider ONNX Runtime execution provider
 * @param deviceId GPU ordinal for CUDA
 * @param intraOpThreads ONNX Runtime intra-op threads; 0 lets it choose
 * @param maxBatchSize images per encoder run; a buffer that reaches it is flushed at once
 * @param maxBatchDelay longest an image waits in a partial batch before the batch is flushed anyway
 * @param featureMode which features to emit
 * @param featureDtype number format of emitted features
 */
public record TokenizerOptions(
        String modelDir,
        ExecutionProvider provider,
        int deviceId,
        int intraOpThreads,
        int maxBatchSize,
        Duration maxBatchDelay,
        FeatureMode featureMode,
        FeatureDtype featureDtype) implements Serializable {
    private static final long serialVersionUID = 1L;

    public TokenizerOptions {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(maxBatchDelay, "maxBatchDelay");
        Objects.requireNonNull(featureMode, "featureMode");
        Objects.requireNonNull(featureDtype, "featureDtype");
        if (deviceId < 0) {
            throw new IllegalArgumentException("deviceId must be >= 0, got " + deviceId);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0, got " + intraOpThreads);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        if (maxBatchDelay.isNegative() || maxBatchDelay.isZero()) {
            throw new IllegalArgumentException("maxBatchDelay must be > 0, got " + maxBatchDelay);
        }
    }

    public SessionConfig sessionConfig() {
        return SessionConfig.builder()
                .modelDir(Path.of(modelDir))
                .provider(provider)
                .deviceId(deviceId)
                .intraOpThreads(intraOpThreads)
                .build();
    }

    public static Builder builder(String modelDir) {
        return new Builder(modelDir);
    }

    /** Defaults: CPU, device 0, ORT's thread count, batches of 16 or 50 ms, per-token float16 features. */
    public static final class Builder {
        private final String modelDir;
        private ExecutionProvider provider = ExecutionProvider.CPU;
        private int deviceId;
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

        public Builder deviceId(int deviceId) {
            this.deviceId = deviceId;
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
                    modelDir, provider, deviceId, intraOpThreads, maxBatchSize, maxBatchDelay, featureMode, featureDtype);
        }
    }
}
