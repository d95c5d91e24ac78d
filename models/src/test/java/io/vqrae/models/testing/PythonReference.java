package io.vqrae.models.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code python -m vqrae.<module> ...} from {@code models/python} and fails with its output if it fails. */
public final class PythonReference {
    private static final long TIMEOUT_MINUTES = 10;

    private PythonReference() {}

    public static String run(String module, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(TestPaths.python(), "-m", "vqrae." + module));
        command.addAll(List.of(args));
        // Output goes to a file so waitFor's timeout holds even if the child never closes its stdout.
        Path log = Files.createTempFile("vqrae-python-", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(TestPaths.root().toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("PYTHONPATH", TestPaths.root().resolve("models").resolve("python").toString());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("Cannot start " + TestPaths.python() + " for the PyTorch reference;"
                    + " install it with bin/setup (Debian python3-torch, python3-onnx, python3-pil)", e);
        }
        boolean finished = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (!finished) {
            process.destroyForcibly();
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        if (!finished) {
            throw new IllegalStateException(command + " did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + text);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(command + " failed with exit code " + process.exitValue() + ":\n" + text);
        }
        return text;
    }
}
