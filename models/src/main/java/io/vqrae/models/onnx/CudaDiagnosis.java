package io.vqrae.models.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Explains why the CUDA execution provider did not load. ONNX Runtime's own message is either about the
 * provider ("Failed to find CUDA shared provider": the CPU-only jar) or about the first library the dynamic
 * loader missed; this adds which build is on the classpath and every CUDA/cuDNN library of the set the
 * {@code onnxruntime_gpu} 1.x jars link against that is absent from the library search path, so one
 * error names everything to install.
 */
final class CudaDiagnosis {
    /** Sonames the CUDA 12 builds of onnxruntime_gpu load (CUDA runtime, cuBLAS, cuFFT, cuRAND, cuDNN 9). */
    static final List<String> REQUIRED_LIBRARIES = List.of(
            "libcudart.so.12", "libcublas.so.12", "libcublasLt.so.12", "libcufft.so.11", "libcurand.so.10",
            "libcudnn.so.9");

    private CudaDiagnosis() {}

    static String explain(int deviceId, String ortMessage) {
        StringBuilder message = new StringBuilder("The CUDA execution provider could not be loaded for device ")
                .append(deviceId).append(": ").append(ortMessage).append(". ");
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            message.append("The onnxruntime jar on the classpath is the CPU-only build (its providers: ")
                    .append(OrtEnvironment.getAvailableProviders())
                    .append("); use com.microsoft.onnxruntime:onnxruntime_gpu of the same version instead.");
        }
        List<Path> searchPath = librarySearchPath();
        List<String> missing = missingLibraries(searchPath);
        if (!missing.isEmpty()) {
            message.append(" Missing from the library search path ").append(searchPath).append(": ")
                    .append(String.join(", ", missing))
                    .append(" (install the CUDA 12 runtime, cuBLAS, cuFFT, cuRAND and cuDNN 9, or add their folder"
                            + " to LD_LIBRARY_PATH).");
        }
        return message.toString();
    }

    /** Required sonames found in none of {@code directories}. */
    static List<String> missingLibraries(List<Path> directories) {
        List<String> missing = new ArrayList<>();
        for (String library : REQUIRED_LIBRARIES) {
            if (directories.stream().noneMatch(dir -> Files.exists(dir.resolve(library)))) {
                missing.add(library);
            }
        }
        return missing;
    }

    /** LD_LIBRARY_PATH, the dynamic loader's configured folders, and where CUDA installs by default. */
    static List<Path> librarySearchPath() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ldLibraryPath = System.getenv("LD_LIBRARY_PATH");
        if (ldLibraryPath != null) {
            for (String dir : ldLibraryPath.split(":")) {
                if (!dir.isBlank()) {
                    dirs.add(Path.of(dir));
                }
            }
        }
        dirs.addAll(loaderConfiguredDirectories(Path.of("/etc/ld.so.conf.d")));
        for (String dir : List.of("/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib")) {
            dirs.add(Path.of(dir));
        }
        return dirs.stream().filter(Files::isDirectory).toList();
    }

    private static List<Path> loaderConfiguredDirectories(Path confDir) {
        if (!Files.isDirectory(confDir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(confDir)) {
            List<Path> dirs = new ArrayList<>();
            for (Path conf : files.filter(f -> f.toString().endsWith(".conf")).sorted().toList()) {
                for (String line : Files.readAllLines(conf)) {
                    String trimmed = line.strip();
                    if (trimmed.startsWith("/")) {
                        dirs.add(Path.of(trimmed));
                    }
                }
            }
            return dirs;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + confDir, e);
        }
    }
}
