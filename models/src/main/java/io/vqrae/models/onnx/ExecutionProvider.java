package io.vqrae.models.onnx;

import java.util.Locale;

/** Where ONNX Runtime runs a graph. */
public enum ExecutionProvider {
    /** ONNX Runtime's default CPU kernels; works with the plain {@code onnxruntime} jar. */
    CPU,
    /**
     * NVIDIA GPUs. Needs the {@code onnxruntime_gpu} jar instead of {@code onnxruntime}, and CUDA + cuDNN
     * libraries of the versions that jar was built for on the library path.
     */
    CUDA;

    /** Parses {@code cpu} / {@code cuda} (any case); the error lists the accepted names. */
    public static ExecutionProvider parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown execution provider '" + name + "'; expected cpu or cuda", e);
        }
    }
}
