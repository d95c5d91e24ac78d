package io.vqrae.models.onnx;

import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.manifest.ModelManifest;
import java.io.Serializable;
import java.util.Objects;

/**
 * How to open one of a model's ONNX Runtime sessions. Two sessions opened with equal configs in one JVM
 * share one native session (see {@link TokenizerSession}). Serializable, so it can travel inside an
 * operator's spec; the manifest it holds was loaded once on the client.
 *
 * @param manifest the model
 * @param provider execution provider
 * @param deviceId GPU ordinal for {@link ExecutionProvider#CUDA}; ignored on CPU
 * @param intraOpThreads threads ONNX Runtime may use inside one operator; 0 lets it choose (one per core)
 * @param gpuMemLimitBytes the CUDA arena's {@code gpu_mem_limit}; 0 = none (ONNX Runtime's default); ignored on CPU
 */
public record SessionConfig(ModelManifest manifest, ExecutionProvider provider, int deviceId, int intraOpThreads, long gpuMemLimitBytes)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    public SessionConfig {
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(provider, "provider");
        InvalidSettingException.requireBetween("device-id", deviceId, 0, Integer.MAX_VALUE);
        InvalidSettingException.requireBetween("intra-op-threads", intraOpThreads, 0, Integer.MAX_VALUE);
        InvalidSettingException.requireBetween("gpu-mem-limit-bytes", gpuMemLimitBytes, 0, Long.MAX_VALUE);
    }

    /** This session on GPU ordinal {@code device}. */
    public SessionConfig onDevice(int device) {
        return new SessionConfig(manifest, provider, device, intraOpThreads, gpuMemLimitBytes);
    }

    /** CPU, device 0, ONNX Runtime's own thread count. */
    public static SessionConfig cpu(ModelManifest manifest) {
        return new SessionConfig(manifest, ExecutionProvider.CPU, 0, 0, 0);
    }
}
