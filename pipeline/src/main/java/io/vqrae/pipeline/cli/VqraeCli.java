package io.vqrae.pipeline.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/vqrae} entry point and the job jar's main class (so {@code flink run} can start
 * {@code run} on a cluster). Each subcommand is its own class.
 */
@Command(
        name = "vqrae",
        mixinStandardHelpOptions = true,
        versionProvider = VqraeCli.Version.class,
        description = "Images to VQRAE tokens and semantic features.",
        subcommands = {DemoCommand.class, RunCommand.class, TokenizeCommand.class, CommandLine.HelpCommand.class})
public final class VqraeCli {

    public static void main(String[] args) {
        CommandLine cli = commandLine();
        int exitCode = cli.execute(args);
        // `run` is what `flink run` starts; in application mode System.exit would take the JobManager down
        // with the finished program, so it returns normally. The other commands exit explicitly: the
        // embedded broker and MiniCluster leave non-daemon threads behind.
        if (exitCode != 0 || !submittedJob(cli)) {
            System.exit(exitCode);
        }
    }

    private static boolean submittedJob(CommandLine cli) {
        CommandLine.ParseResult parsed = cli.getParseResult();
        return parsed != null && parsed.hasSubcommand()
                && parsed.subcommand().commandSpec().userObject() instanceof RunCommand;
    }

    /** The build's version, written into {@code vqrae-version.properties} by Maven resource filtering. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties properties = new Properties();
            try (InputStream in = VqraeCli.class.getResourceAsStream("/vqrae-version.properties")) {
                if (in != null) {
                    properties.load(in);
                }
            }
            return new String[] {"vqrae-stream " + properties.getProperty("version", "(unknown version)")};
        }
    }

    /** The command tree; tests execute it without exiting the JVM. */
    public static CommandLine commandLine() {
        return new CommandLine(new VqraeCli());
    }
}
