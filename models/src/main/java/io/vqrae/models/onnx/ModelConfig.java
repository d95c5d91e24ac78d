package io.vqrae.models.onnx;

import io.soabase.recordbuilder.core.RecordBuilder;
import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;

/**
 * Which model to run and where: the {@code model} section of a job's configuration, and what
 * {@code vqrae tokenize} takes from its options.
 *
 * @param dir model directory with {@code manifest.json}: a local path, the same on every TaskManager, or any Flink
 *     filesystem URI ({@code s3://bucket/vqrae-so400m/}), which each process copies once into {@code cacheDir}
 * @param provider ONNX Runtime execution provider
 * @param deviceIds GPU ordinals, an explicit assignment: session slot {@code i} (a tokenizer subtask) uses
 *     {@code deviceIds[i % size]}; empty (the default) = the GPUs Flink's external resource {@code gpu} gave
 *     the TaskManager, one per tokenizer subtask there (see the operators' {@code GpuAssignment}), or
 *     ordinal 0 where there is no such resource (a local run, {@code vqrae tokenize})
 * @param intraOpThreads ONNX Runtime intra-op threads; 0 lets it choose
 * @param cacheDir where a process keeps its copies of models given by a filesystem URI as {@code dir} (the
 *     operators' {@code ModelCache}); blank = {@code <java.io.tmpdir>/vqrae-models} of each process
 * @param gpuMemLimitBytes the most GPU memory ONNX Runtime's CUDA arena may hold per session (its
 *     {@code gpu_mem_limit}); 0 = ONNX Runtime's default, no limit. Without one the arena keeps every block it ever
 *     grew to, so a rare large batch can leave the GPU without room for anything else on it
 */
@RecordBuilder
public record ModelConfig(String dir, ExecutionProvider provider, List<Integer> deviceIds, int intraOpThreads, String cacheDir,
        long gpuMemLimitBytes) implements Serializable, ModelConfigBuilder.With {
    private static final long serialVersionUID = 1L;

    /** The shipped tiny model on the CPU, GPUs as Flink assigns them, ONNX Runtime's thread count. */
    public static final ModelConfig DEFAULT = ModelConfigBuilder.builder()
            .dir("models/tiny")
            .provider(ExecutionProvider.CPU)
            .deviceIds(List.of())
            .intraOpThreads(0)
            .cacheDir("")
            .gpuMemLimitBytes(0)
            .build();

    public ModelConfig {
        InvalidSettingException.requireNonBlank("dir", dir);
        InvalidSettingException.requireSet("provider", provider);
        deviceIds = List.copyOf(InvalidSettingException.requireSet("device-ids", deviceIds));
        if (deviceIds.stream().anyMatch(id -> id < 0)) {
            throw new InvalidSettingException("device-ids", "must be ordinals >= 0 (or none, to take Flink's GPU assignment), got " + deviceIds);
        }
        InvalidSettingException.requireBetween("intra-op-threads", intraOpThreads, 0, Integer.MAX_VALUE);
        InvalidSettingException.requireSet("cache-dir", cacheDir);
        InvalidSettingException.requireBetween("gpu-mem-limit-bytes", gpuMemLimitBytes, 0, Long.MAX_VALUE);
    }


    /**
     * Loads the manifest in {@link #dir()}, a local path, and checks each graph against its SHA-256 (see
     * {@link ModelManifest#loadVerified}); a filesystem URI is the operators' {@code ModelCache}'s to load.
     */
    public ModelManifest loadManifest() throws ModelLoadException {
        return ModelManifest.loadVerified(Path.of(dir));
    }

    /**
     * The session of slot {@code slot} (a tokenizer subtask index): on device {@code deviceIds[slot % size]}, or
     * ordinal 0 without explicit ids (a caller with Flink's GPU assignment moves it, {@link SessionConfig#onDevice}).
     */
    public SessionConfig session(ModelManifest manifest, int slot) {
        return new SessionConfig(manifest, provider, deviceIds.isEmpty() ? 0 : deviceIds.get(slot % deviceIds.size()), intraOpThreads,
                gpuMemLimitBytes);
    }

    /** Whether GPUs come from Flink's external resource assignment: CUDA without explicit {@link #deviceIds}. */
    public boolean gpusFromFlink() {
        return provider == ExecutionProvider.CUDA && deviceIds.isEmpty();
    }
}
