package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What a person sees when a command goes wrong: one line naming the problem, the exit code, no stack trace. */
class CliErrorsTest {

    @TempDir
    Path temp;

    private record Run(int exitCode, String err, long millis) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = VqraeCli.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        long start = System.nanoTime();
        int exit = cli.execute(args);
        return new Run(exit, err.toString(), (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void aBadConfigValueIsOneLineNamingTheKeyAndExit2() {
        Run run = run("run", "--set", "batching.max-size=0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).isEqualTo("vqrae: batching.max-size: must be between 1 and 4096, got 0" + System.lineSeparator());
    }

    @Test
    void anUnknownKeyInAFileIsNamedWithItsPath() throws Exception {
        Path file = temp.resolve("job.yaml");
        Files.writeString(file, "kafka:\n  topics:\n    inptu: images\n");
        Run run = run("run", "--config", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("vqrae: kafka.topics.inptu: unknown key (known here: dead-letter, features, input, tokens;")
                .doesNotContain("\tat ");
    }

    /**
     * Under {@code flink run} Flink set up the filesystems from the cluster's configuration, on every process; a
     * job config's {@code s3.*} would reach this client only. Flink's {@code flink run} puts a context environment
     * of a non-local target in place, as this test does.
     */
    @Test
    void s3SettingsUnderFlinkRunAreRefusedNamingTheKey() {
        Configuration cluster = new Configuration();
        cluster.set(DeploymentOptions.TARGET, "remote");
        ClusterContext.install(cluster);
        try {
            Run run = run("detokenize", "--set", "s3.endpoint=http://127.0.0.1:9000", "s3://tokens/run");
            assertThat(run.exitCode()).isEqualTo(2);
            assertThat(run.err()).isEqualTo("vqrae: s3: applies to local runs only: on a cluster, s3.* keys belong in the Flink"
                    + " configuration (flinkConfiguration in deploy/k8s/flink-deployment.yaml), which every JobManager and"
                    + " TaskManager reads" + System.lineSeparator());
        } finally {
            ClusterContext.uninstall();
        }
    }

    /** What {@code flink run} does before it calls a job's main: a context environment of the cluster's target. */
    private static final class ClusterContext extends StreamExecutionEnvironment {
        static void install(Configuration configuration) {
            initializeContextEnvironment(ignored -> new StreamExecutionEnvironment(configuration));
        }

        static void uninstall() {
            resetContextEnvironment();
        }
    }

    @Test
    void aMissingModelIsAConfigurationErrorOfModelDir() throws Exception {
        Path photo = Files.copy(TestPaths.testImage("flower.png.im_q85_420.jpg"), temp.resolve("flower.jpg"));
        Run run = run("tokenize", "--model", temp.resolve("nowhere").toString(), photo.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("vqrae: model.dir: No model manifest at").doesNotContain("\tat ");
    }

    @Test
    void aUsageErrorNamesTheOptionAndPointsToHelp() {
        Run run = run("tokenize", "--batch-size", "many", "x.jpg");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("vqrae: Invalid value for option '--batch-size'").contains("--help");
    }

    @Test
    void anUnreachableKafkaClusterIsReportedByNameWithin15Seconds() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        String bootstrap = "127.0.0.1:" + closedPort;
        Run run = run("run", "--bootstrap-servers", bootstrap, "--set", "model.dir=" + TestPaths.tinyModel());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).startsWith("vqrae: cannot reach Kafka at " + bootstrap).doesNotContain("\tat ");
        assertThat(run.millis()).isLessThan(15_000);
    }

    @Test
    void verbosePrintsTheStackTrace() {
        Run run = run("run", "--verbose", "--set", "batching.max-size=0");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("vqrae: batching.max-size:").contains("\tat ");
    }
}
