package io.vqrae.pipeline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/vqrae} entry point and the job jar's main class (so {@code flink run} can start
 * {@code run} on a cluster). Each subcommand is its own class.
 */
@Command(
        name = "vqrae",
        mixinStandardHelpOptions = true,
        description = "Images to VQRAE tokens and semantic features.",
        subcommands = {DemoCommand.class, RunCommand.class, TokenizeCommand.class, CommandLine.HelpCommand.class})
public final class VqraeCli {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command tree; tests execute it without exiting the JVM. */
    public static CommandLine commandLine() {
        return new CommandLine(new VqraeCli());
    }
}
