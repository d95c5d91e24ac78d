package io.vqrae.pipeline.tools;

import io.vqrae.pipeline.bench.BenchCommand;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.demo.DemoCommand;
import java.util.List;
import picocli.CommandLine;

/**
 * {@code bin/vqrae}'s entry point: the product's command line ({@link VqraeCli}, what the job jar runs under
 * {@code flink run}) with the tooling's commands added: {@code demo} (the in-JVM broker and a MiniCluster) and
 * {@code bench}.
 */
public final class ToolsCli {
    private ToolsCli() {}

    public static void main(String[] args) {
        VqraeCli.run(commandLine(), args);
    }

    /** The whole command tree; tests execute it without exiting the JVM. */
    public static CommandLine commandLine() {
        return VqraeCli.commandLine(List.of(new DemoCommand(), new BenchCommand()));
    }
}
