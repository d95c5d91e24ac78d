package io.vqrae.models.onnx;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How to open a model's ONNX Runtime sessions. Two sessions opened with equal configs in one JVM share
 * one native session (see {@link TokenizerSession}).
 *
 * @param modelDir directory holding {@code manifest.json} and the graphs it names
 * @param provider execution provider
 * @param deviceId GPU ordinal for {@link ExecutionProvider#CUDA}; ignored on CPU
 * @param intraOpThreads threads ONNX Runtime may use inside one operator; 0 lets it choose (one per core)
 */
public record SessionConfig(Path modelDir, ExecutionProvider provider, int deviceId, int intraOpThreads) {
    public SessionConfig {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(provider, "provider");
        if (deviceId < 0) {
            throw new IllegalArgumentException("deviceId must be >= 0, got " + deviceId);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0 (0 = ONNX Runtime's choice), got " + intraOpThreads);
        }
        modelDir = modelDir.toAbsolutePath().normalize();
    }

    /** CPU, device 0, ONNX Runtime's own thread count. */
    public static SessionConfig cpu(Path modelDir) {
        return builder().modelDir(modelDir).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with defaults: CPU, device 0, {@code intraOpThreads = 0}. */
    public static final class Builder {
        private Path modelDir;
        private ExecutionProvider provider = ExecutionProvider.CPU;
        private int deviceId;
        private int intraOpThreads;

        private Builder() {}

        public Builder modelDir(Path modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
            return this;
        }

        public Builder provider(ExecutionProvider provider) {
            this.provider = Objects.requireNonNull(provider, "provider");
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

        public SessionConfig build() {
            if (modelDir == null) {
                throw new IllegalStateException("modelDir is required");
            }
            return new SessionConfig(modelDir, provider, deviceId, intraOpThreads);
        }
    }
}
