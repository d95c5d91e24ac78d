package io.vqrae.pipeline.cli;

import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.kafka.KafkaAccessException;
import io.vqrae.pipeline.kafka.KafkaUnreachableException;
import io.vqrae.pipeline.storage.ObjectStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code bin/vqrae} entry point and the job jar's main class (so {@code flink run} can start
 * {@code run} on a cluster). Each subcommand is its own class.
 *
 * <p>Errors reach a person as one line, {@code vqrae: <what>}: a usage or configuration error (naming the
 * key, or the input path: {@link InputPaths}) exits 2, anything else 1, a run none of whose inputs could be used
 * too ({@link NoUsableInputException}). The Java stack trace is printed only with {@code --verbose}.
 */
@Command(
        name = "vqrae",
        mixinStandardHelpOptions = true,
        versionProvider = VqraeCli.Version.class,
        description = "Images to VQRAE tokens and semantic features.",
        subcommands = {RunCommand.class, TokenizeCommand.class, TokenizeCorpusCommand.class, LoadCommand.class, ReconstructCommand.class,
            DetokenizeCommand.class})
public final class VqraeCli {
    /** Exit code of a usage or configuration error. */
    static final int USAGE_ERROR = 2;
    /** Exit code of a failure while running. */
    static final int FAILED = 1;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print the Java stack trace of an error.")
    boolean verbose;

    public static void main(String[] args) {
        run(commandLine(), args);
    }

    /**
     * Runs {@code cli} on {@code args} as a program: exits the JVM with the command's exit code, except after a
     * successful {@code run}.
     */
    public static void run(CommandLine cli, String[] args) {
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

    /** The command tree, with its error reporting; tests execute it without exiting the JVM. */
    public static CommandLine commandLine() {
        return commandLine(List.of());
    }

    /**
     * The command tree with more commands: the tooling's ({@code pipeline/tools}: demo, bench), which the job
     * jar a cluster runs does not hold.
     */
    public static CommandLine commandLine(List<Object> moreCommands) {
        VqraeCli root = new VqraeCli();
        CommandLine cli = new CommandLine(root);
        moreCommands.forEach(cli::addSubcommand);
        cli.addSubcommand(new CommandLine.HelpCommand());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("vqrae: " + e.getMessage());
            if (!(e instanceof InputPaths.BadInputException)) {
                err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            }
            return USAGE_ERROR;
        });
        cli.setExecutionExceptionHandler((thrown, commandLine, parsed) -> {
            // A command that opens the model lets its ModelLoadException out: here it becomes model.dir's error.
            Exception e = thrown instanceof ModelLoadException bad ? ConfigException.of(bad) : thrown;
            PrintWriter err = commandLine.getErr();
            err.println("vqrae: " + describe(e));
            if (root.verbose) {
                e.printStackTrace(err);
            } else if (!(e instanceof ConfigException || e instanceof InvalidSettingException || e instanceof KafkaAccessException
                    || e instanceof NoUsableInputException || e instanceof ObjectStoreException)) {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return e instanceof ConfigException || e instanceof InvalidSettingException ? USAGE_ERROR : FAILED;
        });
        return cli;
    }

    /** One line for a person: our own messages as they are, anything else with its type and root cause. */
    private static String describe(Exception e) {
        if (e instanceof ConfigException || e instanceof InvalidSettingException || e instanceof KafkaUnreachableException
                || e instanceof KafkaAccessException || e instanceof NoUsableInputException || e instanceof ObjectStoreException) {
            return e.getMessage();
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return root == e ? message : message + " (caused by " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
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
}
