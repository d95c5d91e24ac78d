package io.vqrae.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.testing.LogCapture;
import io.vqrae.pipeline.testing.ReliabilitySection;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

/**
 * The job against a broker as a production cluster would run it: SASL_SSL with SCRAM-SHA-512, TLS, and the
 * StandardAuthorizer. With exactly the ACLs docs/pipeline.md lists the job tokenizes every image once; with
 * one of them missing, or a wrong password, it fails at start with one line that says why; no secret
 * appears in anything the runs wrote; a model that is not what its manifest says is refused at start.
 *
 * <p>Every case runs through {@code vqrae run}, as a person would, on one shared MiniCluster (whose REST API
 * serves what Flink's web UI shows) and one shared broker.
 */
@Tag("reliability")
class KafkaSecurityTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();
    private static final int GOOD_IMAGES = 8;
    private static final JobConfig.Topics TOPICS = JobConfig.Topics.DEFAULT.with(topics -> topics
            .input("sec.images").tokens("sec.tokens").features("sec.features").deadLetter("sec.dead-letter"));
    private static final String GROUP = "sec-group";
    private static final String TRANSACTIONAL_ID_PREFIX = "sec-tx";
    private static final String JOB_USER = "vqrae-job";
    private static final String WRONG_PASSWORD = secret();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    /** One principal per case, each with the least privilege less (at most) one permission. */
    private static final Map<String, String> PASSWORDS = new LinkedHashMap<>();
    private static final Map<String, String[]> ROWS = new TreeMap<>();
    private static LogCapture logs;
    private static EmbeddedKafka kafka;

    /** The job's permission replaced by DESCRIBE on the same resource, so the check must tell the two apart. */
    enum Missing {
        INPUT_READ(AclOperation.READ, TOPICS.input(), "no READ on the input topic"),
        OUTPUT_WRITE(AclOperation.WRITE, TOPICS.tokens(), "no WRITE on the tokens topic"),
        OUTPUT_DESCRIBE_CONFIGS(AclOperation.DESCRIBE_CONFIGS, TOPICS.deadLetter(), "no DESCRIBE_CONFIGS on the dead-letter topic"),
        GROUP_READ(AclOperation.READ, GROUP, "no READ on the group"),
        TRANSACTIONAL_ID_WRITE(AclOperation.WRITE, TRANSACTIONAL_ID_PREFIX, "no WRITE on the transactional-id prefix");

        final AclOperation operation;
        final String resource;
        final String label;

        Missing(AclOperation operation, String resource, String label) {
            this.operation = operation;
            this.resource = resource;
            this.label = label;
        }

        String user() {
            return "no-" + name().toLowerCase().replace('_', '-');
        }

        boolean matches(JobPermissions.Permission permission) {
            return permission.operation() == operation && permission.name().equals(resource);
        }
    }

    @BeforeAll
    static void startSecuredKafka() throws Exception {
        // Installed first: the broker's own start-up logs (its configuration) are greped too.
        logs = LogCapture.install(Level.INFO);
        PASSWORDS.put(JOB_USER, secret());
        for (Missing missing : Missing.values()) {
            PASSWORDS.put(missing.user(), secret());
        }
        EmbeddedKafka.Builder builder = EmbeddedKafka.builder().secured().maxMessageBytes(8 * 1024 * 1024);
        PASSWORDS.forEach(builder::scramUser);
        kafka = builder.start();
        try (Admin admin = Admin.create(adminClientProperties())) {
            List<NewTopic> topics = Stream.of(TOPICS.input(), TOPICS.tokens(), TOPICS.features(), TOPICS.deadLetter())
                    .map(name -> new NewTopic(name, 1, (short) 1).configs(Map.of("max.message.bytes", Integer.toString(4 * 1024 * 1024))))
                    .toList();
            admin.createTopics(topics).all().get();
        }
        List<AclBinding> acls = new ArrayList<>(grants(JOB_USER, null));
        for (Missing missing : Missing.values()) {
            acls.addAll(grants(missing.user(), missing));
        }
        kafka.grant(acls);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (kafka != null) {
                kafka.close();
            }
        } finally {
            logs.close();
        }
        new ReliabilitySection("security", "Security",
                "The job (`vqrae run`, bounded, on a Flink MiniCluster) against the embedded KRaft broker with a SASL_SSL listener"
                        + " (SCRAM-SHA-512, TLS from a keystore generated at start) and the StandardAuthorizer; topics pre-created,"
                        + " `kafka.create-topics: false`. The job's principal holds exactly the " + JobPermissions.required(jobKafka()).size()
                        + " ACLs of docs/pipeline.md \"Kafka ACLs\"; each failure case swaps one of them for DESCRIBE on the same"
                        + " resource. Times are from the command's start to its exit (measured, not asserted). Written by KafkaSecurityTest.",
                List.of("case", "expected", "outcome", "time", "what the command printed"),
                ROWS.values().stream().map(List::of).toList()).write();
    }

    @Test
    void withLeastPrivilegeEveryImageIsTokenizedOnceAndNoSecretAppearsAnywhere(
            @TempDir Path dir, @InjectClusterClient ClusterClient<?> flink) throws Exception {
        SampleImages.write(dir.resolve("images"), GOOD_IMAGES);
        Map<String, byte[]> good = new LinkedHashMap<>();
        List<String> broken = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir.resolve("images"))) {
            for (Path file : files.sorted().toList()) {
                String id = file.getFileName().toString();
                if (SampleImages.isBroken(id)) {
                    broken.add(id);
                } else {
                    good.put(id, Files.readAllBytes(file));
                }
            }
        }
        JobConfig.Kafka admin = adminKafka();
        try (InputWriter writer = new InputWriter(admin)) {
            good.forEach((id, bytes) -> writer.send(id, bytes, null));
            for (String id : broken) {
                writer.send(id, Files.readAllBytes(dir.resolve("images").resolve(id)), null);
            }
        }

        int logStart = logs.text().length();
        Run run = run(dir, JOB_USER, PASSWORDS.get(JOB_USER), MODEL_DIR, "secured-least-privilege");
        assertThat(run.exitCode()).as(run.err()).isZero();

        OutputReader.Outputs out = OutputReader.readCommitted(admin, Duration.ofMinutes(1));
        assertThat(out.tokens()).extracting(TokenRecord::getId).containsExactlyInAnyOrderElementsOf(good.keySet());
        assertThat(out.features()).extracting(FeatureRecord::getId).containsExactlyInAnyOrderElementsOf(good.keySet());
        assertThat(out.deadLetters()).extracting(DeadLetterRecord::getId).containsExactlyInAnyOrderElementsOf(broken);
        row(0, "least privilege", "runs; every image once", "exit 0; " + out.tokens().size() + " token, " + out.features().size()
                + " feature records (" + good.size() + " images, each id once), " + out.deadLetters().size() + " dead letters", run.seconds(), "");

        // Everything the run wrote: logs (broker, clients, Flink), the command's output, and what Flink's REST
        // API (the web UI's backend) shows of the job and the JobManager.
        Map<String, String> written = new LinkedHashMap<>();
        written.put("logs", logs.text().substring(logStart));
        written.put("broker start-up logs", logs.text().substring(0, logStart));
        written.put("stdout", run.out());
        written.put("stderr", run.err());
        String jobId = jobId(flink, "secured-least-privilege");
        String rest = flink.getWebInterfaceURL();
        for (String path : List.of("/jobs/" + jobId, "/jobs/" + jobId + "/config", "/jobs/" + jobId + "/jobmanager/config",
                "/jobs/" + jobId + "/plan", "/jobs/" + jobId + "/exceptions", "/jobmanager/config", "/jobmanager/environment")) {
            written.put("REST " + path.replace(jobId, "<id>"), get(rest + path));
        }
        // The greps can fail: the clients did log their configurations, with Kafka's own masking.
        assertThat(written.get("logs")).contains("sasl.jaas.config = [hidden]", "ssl.truststore.password = [hidden]");
        assertThat(written.get("broker start-up logs")).contains("ssl.keystore.password = [hidden]");
        assertThat(written.get("REST /jobs/<id>/config")).contains("execution-config");
        List<String> secrets = secrets();
        written.forEach((source, text) -> assertThat(secrets).as(source).noneMatch(text::contains));
        long bytes = written.values().stream().mapToLong(String::length).sum();
        row(1, "secrets", "no password, JAAS config or keystore password anywhere",
                secrets.size() + " secrets in 0 of " + written.size() + " sources (" + bytes / 1024 + " KiB: logs at INFO, stdout, stderr, "
                        + (written.size() - 4) + " Flink REST responses incl. /jobs/<id>/config and /jobs/<id>/jobmanager/config)",
                "", "");
    }

    @ParameterizedTest
    @EnumSource(Missing.class)
    void withOnePermissionMissingTheJobFailsAtStartNamingIt(Missing missing, @TempDir Path dir) throws Exception {
        JobPermissions.Permission permission = JobPermissions.required(jobKafka()).stream().filter(missing::matches).findFirst().orElseThrow();
        Run run = run(dir, missing.user(), PASSWORDS.get(missing.user()), MODEL_DIR, "secured-" + missing.user());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("vqrae: Kafka at " + kafka.bootstrapServers() + " denies User:" + missing.user()
                + " (SASL_SSL, SCRAM-SHA-512) what the job needs: " + permission.describe()
                + ". docs/pipeline.md \"Kafka ACLs\" lists every grant." + System.lineSeparator());
        assertThat(secrets()).noneMatch(run.err()::contains);
        row(10 + missing.ordinal(), missing.label + " (DESCRIBE instead)", "fails at start, names it", "exit 1 before submission",
                run.seconds(), run.err().strip());
    }

    @Test
    void creatingAMissingTopicWithoutCreateFailsAtStartNamingIt(@TempDir Path dir) throws Exception {
        // The least-privilege principal holds no CREATE: with kafka.create-topics it cannot make a topic that is missing.
        String missingTopic = "sec.features-not-created";
        Run run = run(dir, JOB_USER, PASSWORDS.get(JOB_USER), MODEL_DIR, "secured-no-create", Map.of("create-topics", true,
                "topics", Map.of("input", TOPICS.input(), "tokens", TOPICS.tokens(), "features", missingTopic, "dead-letter", TOPICS.deadLetter())));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("vqrae: Kafka at " + kafka.bootstrapServers() + " denies User:" + JOB_USER
                + " (SASL_SSL, SCRAM-SHA-512) what the job needs: CREATE on topic " + missingTopic + " (kafka.create-topics)"
                + ". docs/pipeline.md \"Kafka ACLs\" lists every grant." + System.lineSeparator());
        try (Admin admin = Admin.create(adminClientProperties())) {
            assertThat(admin.listTopics().names().get()).doesNotContain(missingTopic);
        }
        row(16, "create-topics without CREATE, a topic missing", "fails at start, names it", "exit 1 before submission",
                run.seconds(), run.err().strip());
    }

    @Test
    void aWrongPasswordFailsAtOnceWithAnAuthenticationError(@TempDir Path dir) throws Exception {
        Run run = run(dir, JOB_USER, WRONG_PASSWORD, MODEL_DIR, "secured-wrong-password");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("vqrae: Kafka at " + kafka.bootstrapServers() + " did not authenticate User:" + JOB_USER
                + " (SASL_SSL, SCRAM-SHA-512): Authentication failed during authentication due to invalid credentials with SASL"
                + " mechanism SCRAM-SHA-512" + System.lineSeparator());
        assertThat(secrets()).noneMatch(run.err()::contains);
        row(20, "wrong password", "fails at once, authentication error", "exit 1, no stack trace", run.seconds(), run.err().strip());
    }

    @Test
    void aGraphThatDoesNotMatchItsManifestIsRefusedAtStart(@TempDir Path dir, @InjectClusterClient ClusterClient<?> flink) throws Exception {
        Path model = copyModel(dir.resolve("model"));
        byte[] encoder = Files.readAllBytes(model.resolve("encoder.onnx"));
        encoder[encoder.length / 2] ^= 1;
        Files.write(model.resolve("encoder.onnx"), encoder);

        Run run = run(dir, JOB_USER, PASSWORDS.get(JOB_USER), model, "secured-tampered-graph");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).startsWith("vqrae: model.dir: Graph " + model.resolve("encoder.onnx") + " has SHA-256 ")
                .endsWith(" but manifest.json expects " + TestPaths.manifest(MODEL_DIR).graph("encoder").sha256()
                        + ": the graph and the manifest come from different exports" + System.lineSeparator());
        assertThat(jobNames(flink)).doesNotContain("secured-tampered-graph");
        row(30, "graph not matching its manifest hash", "refused at start", "exit 2, no job submitted", run.seconds(), run.err().strip());
    }

    @Test
    void aManifestPathOutsideTheModelDirectoryIsRefusedAtStart(@TempDir Path dir, @InjectClusterClient ClusterClient<?> flink) throws Exception {
        Path model = copyModel(dir.resolve("model"));
        // The file it points to exists and is the right graph: only where it lies is wrong.
        String escaping = "../" + MODEL_DIR.getFileName() + "-elsewhere/encoder.onnx";
        Files.createDirectories(dir.resolve(MODEL_DIR.getFileName() + "-elsewhere"));
        Files.copy(MODEL_DIR.resolve("encoder.onnx"), dir.resolve(MODEL_DIR.getFileName() + "-elsewhere/encoder.onnx"));
        ObjectNode manifest = (ObjectNode) new ObjectMapper().readTree(model.resolve("manifest.json").toFile());
        ((ObjectNode) manifest.path("graphs").path("encoder")).put("file", escaping);
        new ObjectMapper().writeValue(model.resolve("manifest.json").toFile(), manifest);

        Run run = run(dir, JOB_USER, PASSWORDS.get(JOB_USER), model, "secured-escaping-manifest");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).isEqualTo("vqrae: model.dir: " + model.resolve("manifest.json") + ": 'graphs.encoder.file' (" + escaping
                + ") points outside the model directory" + System.lineSeparator());
        assertThat(jobNames(flink)).doesNotContain("secured-escaping-manifest");
        row(31, "manifest path with ../", "refused at start", "exit 2, no job submitted", run.seconds(), run.err().strip());
    }

    private record Run(int exitCode, String out, String err, long millis) {
        String seconds() {
            return String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
        }
    }

    /**
     * {@code vqrae run --config <file>} as {@code user}, with its Kafka secrets in the file (where
     * docs/pipeline.md says they belong); the command's output, and whatever it printed to the process's
     * stdout and stderr, is returned.
     */
    private static Run run(Path dir, String user, String password, Path model, String jobName) throws Exception {
        return run(dir, user, password, model, jobName, Map.of());
    }

    /** As {@link #run(Path, String, String, Path, String)}, with {@code kafkaOverrides} over the run's kafka section. */
    private static Run run(Path dir, String user, String password, Path model, String jobName, Map<String, Object> kafkaOverrides)
            throws Exception {
        Map<String, Object> kafkaSettings = new LinkedHashMap<>();
        kafkaSettings.put("bootstrap-servers", kafka.bootstrapServers());
        kafkaSettings.put("topics", Map.of("input", TOPICS.input(), "tokens", TOPICS.tokens(), "features", TOPICS.features(),
                "dead-letter", TOPICS.deadLetter()));
        kafkaSettings.put("group-id", GROUP);
        kafkaSettings.put("transactional-id-prefix", TRANSACTIONAL_ID_PREFIX);
        kafkaSettings.put("create-topics", false);
        kafkaSettings.putAll(kafkaOverrides);
        kafkaSettings.put("bounded", true);
        kafkaSettings.put("starting-offsets", "earliest");
        kafkaSettings.put("properties", kafka.clientProperties(user, password));
        Path file = dir.resolve("job.yaml");
        YAML.writeValue(file.toFile(), Map.of(
                "kafka", kafkaSettings,
                "model", Map.of("dir", model.toString()),
                "checkpoint", Map.of("interval", "1s"),
                "parallelism", Map.of("decode", 2)));

        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long start = System.nanoTime();
        int exit;
        try (PrintStream capture = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
            // Replaced before the command line exists: picocli writes to the System.err it saw when built.
            System.setOut(capture);
            System.setErr(capture);
            CommandLine cli = VqraeCli.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            exit = cli.execute("run", "--config", file.toString(), "--job-name", jobName);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Run(exit, out + printed.toString(StandardCharsets.UTF_8), err.toString(), millis);
    }

    /** Allows {@code user} what the job needs, with {@code missing} (if any) replaced by DESCRIBE on its resource. */
    private static List<AclBinding> grants(String user, Missing missing) {
        List<AclBinding> acls = new ArrayList<>();
        for (JobPermissions.Permission permission : JobPermissions.required(jobKafka())) {
            AclOperation operation = missing != null && missing.matches(permission) ? AclOperation.DESCRIBE : permission.operation();
            acls.add(new AclBinding(new ResourcePattern(permission.resourceType(), permission.name(), permission.patternType()),
                    new AccessControlEntry("User:" + user, "*", operation, AclPermissionType.ALLOW)));
        }
        return acls;
    }

    /** The job's Kafka section as the runs configure it (without credentials: only resource names matter here). */
    private static JobConfig.Kafka jobKafka() {
        return JobConfig.fromMap(Map.of(
                "kafka.topics.input", TOPICS.input(), "kafka.topics.tokens", TOPICS.tokens(), "kafka.topics.features", TOPICS.features(),
                "kafka.topics.dead-letter", TOPICS.deadLetter(), "kafka.group-id", GROUP,
                "kafka.transactional-id-prefix", TRANSACTIONAL_ID_PREFIX)).kafka();
    }

    /** The same topics as the super user, who writes the inputs and reads the outputs back. */
    private static JobConfig.Kafka adminKafka() {
        Map<String, String> settings = new LinkedHashMap<>(Map.of(
                "kafka.bootstrap-servers", kafka.bootstrapServers(), "kafka.topics.input", TOPICS.input(), "kafka.topics.tokens", TOPICS.tokens(),
                "kafka.topics.features", TOPICS.features(), "kafka.topics.dead-letter", TOPICS.deadLetter()));
        kafka.superUserProperties().forEach((key, value) -> settings.put("kafka.properties." + key, value));
        return JobConfig.fromMap(settings).kafka();
    }

    private static Properties adminClientProperties() {
        Properties props = new Properties();
        props.putAll(kafka.superUserProperties());
        props.put("bootstrap.servers", kafka.bootstrapServers());
        return props;
    }

    /** Every password the runs used or the node generated, and each JAAS configuration whole. */
    private static List<String> secrets() {
        List<String> secrets = new ArrayList<>(PASSWORDS.values());
        secrets.add(WRONG_PASSWORD);
        secrets.addAll(kafka.generatedSecrets());
        for (String user : PASSWORDS.keySet()) {
            secrets.add(kafka.clientProperties(user, PASSWORDS.get(user)).get("sasl.jaas.config"));
        }
        return secrets;
    }

    private static String secret() {
        byte[] bytes = new byte[12];
        new java.security.SecureRandom().nextBytes(bytes);
        return "pw" + HexFormat.of().formatHex(bytes);
    }

    private static Path copyModel(Path target) throws Exception {
        Files.createDirectories(target);
        for (String file : List.of("manifest.json", "encoder.onnx", "decoder.onnx")) {
            Files.copy(MODEL_DIR.resolve(file), target.resolve(file));
        }
        return target;
    }

    private static String jobId(ClusterClient<?> flink, String name) throws Exception {
        return flink.listJobs().get().stream().filter(job -> job.getJobName().equals(name))
                .map(job -> job.getJobId().toString()).findFirst().orElseThrow();
    }

    private static List<String> jobNames(ClusterClient<?> flink) throws Exception {
        Collection<JobStatusMessage> jobs = flink.listJobs().get();
        return jobs.stream().map(JobStatusMessage::getJobName).toList();
    }

    private static String get(String url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        return response.body();
    }

    private static void row(int order, String name, String expected, String outcome, String time, String printed) {
        synchronized (ROWS) {
            ROWS.put(String.format("%03d", order), new String[] {name, expected, outcome, time, printed});
        }
    }
}
