package io.vqrae.models.onnx;


/** Where ONNX Runtime runs a graph. */
public enum ExecutionProvider {
    /** ONNX Runtime's default CPU kernels; works with the plain {@code onnxruntime} jar. */
    CPU,
    /**
     * NVIDIA GPUs. Needs the {@code onnxruntime_gpu} jar instead of {@code onnxruntime}, and CUDA + cuDNN
     * libraries of the versions that jar was built for on the library path.
     */
    CUDA;

}
