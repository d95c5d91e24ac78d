package io.vqrae.pipeline.testing;

import io.vqrae.models.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM of its own for a test: this test run's class path, the JVM options every launcher of the project gives
 * Flink on Java 17 ({@code deploy/flink-jvm-options}), output to a log file. For what a test must kill or starve
 * without taking the test JVM with it.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /**
     * The command line running {@code mainClass} with {@code args}.
     *
     * @param jvmOptions options before the class path (heap size, ...)
     */
    public static List<String> command(List<String> jvmOptions, String mainClass, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        for (String line : Files.readAllLines(TestPaths.root().resolve("deploy/flink-jvm-options"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                command.add(line.strip());
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        return command;
    }

    /** Starts {@code command} with stdout and stderr appended to {@code log}. */
    public static Process start(List<String> command, Path log) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }
}
