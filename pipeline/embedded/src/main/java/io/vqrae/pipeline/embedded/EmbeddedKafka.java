package io.vqrae.pipeline.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.flink.util.FileUtils;
import org.apache.flink.util.Preconditions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka (KRaft, broker and controller in one process) running inside this JVM, for the
 * embedded default and the integration tests. It runs the same Kafka version as the clients on the
 * classpath, which the exactly-once sink requires (see docs/stack.md). Data (and, secured, the TLS key
 * material) lives in a temporary directory deleted on {@link #close()}.
 *
 * <p>Internal topics use replication 1 and {@code transaction.state.log.min.isr=1}, so transactions work
 * on one node; {@code message.max.bytes} is raised to the largest record size the caller needs.
 *
 * <p>{@link Builder#secured()} makes it a broker as a production cluster would be: clients connect over
 * SASL_SSL with SCRAM-SHA-512 (a TLS key pair generated at start), and the {@code StandardAuthorizer} allows
 * nothing that no ACL grants. The node talks to itself (controller and inter-broker traffic) over PLAINTEXT
 * listeners on 127.0.0.1 whose anonymous principal is a super user; they are never advertised to clients
 * that bootstrap from {@link #bootstrapServers()}.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.builder().secured().scramUser("alice", alicePassword).start()) {
 *     kafka.grant(List.of(new AclBinding(new ResourcePattern(TOPIC, "images", LITERAL),
 *             new AccessControlEntry("User:alice", "*", READ, ALLOW))));
 *     Map<String, String> alice = kafka.clientProperties("alice", alicePassword);
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {
    /** The SASL mechanism of the secured client listener. */
    public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

    /** The super user of a secured node, for administration ({@link #superUserProperties()}). */
    public static final String SUPER_USER = "admin";

    /** The names {@link Builder#scramUser} takes: those the storage formatter's SCRAM syntax reads unquoted. */
    private static final Pattern PLAIN_TOKEN = Pattern.compile("[A-Za-z0-9_-]+");

    private static final Duration ACL_PROPAGATION = Duration.ofSeconds(30);

    private final Path root;
    private final KafkaRaftServer server;
    private final String bootstrapServers;
    /** Null for a PLAINTEXT node. */
    private final TlsMaterial tls;
    private final String superUserPassword;

    private EmbeddedKafka(Path root, KafkaRaftServer server, String bootstrapServers, TlsMaterial tls, String superUserPassword) {
        this.root = root;
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.tls = tls;
        this.superUserPassword = superUserPassword;
    }

    /**
     * Formats a fresh log directory and starts a PLAINTEXT node.
     *
     * @param maxMessageBytes the broker-wide record size limit; topics may set their own up to it
     */
    public static EmbeddedKafka start(int maxMessageBytes) throws IOException {
        return builder().maxMessageBytes(maxMessageBytes).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a node to start; {@link #start()} formats and starts it. */
    public static final class Builder {
        /** Kafka's own default {@code message.max.bytes}. */
        private int maxMessageBytes = 1_048_588;
        private boolean secured;
        private final Map<String, String> scramUsers = new LinkedHashMap<>();

        private Builder() {}

        /** The broker-wide record size limit; topics may set their own up to it. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            Preconditions.checkArgument(maxMessageBytes > 0, "maxMessageBytes must be positive, got %s", maxMessageBytes);
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        /** Clients connect over SASL_SSL with {@value #SCRAM_MECHANISM}; ACLs authorize every request. */
        public Builder secured() {
            this.secured = true;
            return this;
        }

        /**
         * A SCRAM user of a {@link #secured()} node, written into the metadata log when it is formatted, so
         * it can authenticate as soon as the node listens.
         */
        public Builder scramUser(String name, String password) {
            Preconditions.checkArgument(name != null && PLAIN_TOKEN.matcher(name).matches(),
                    "SCRAM user names are letters, digits, '_' and '-', got %s", name);
            Preconditions.checkArgument(password != null && PLAIN_TOKEN.matcher(password).matches(),
                    "SCRAM passwords are letters, digits, '_' and '-' here (user %s)", name);
            Preconditions.checkArgument(!name.equals(SUPER_USER), "%s is the node's own super user", SUPER_USER);
            Preconditions.checkState(scramUsers.putIfAbsent(name, password) == null, "SCRAM user %s was already added", name);
            return this;
        }

        public EmbeddedKafka start() throws IOException {
            Preconditions.checkState(secured || scramUsers.isEmpty(), "SCRAM users need a secured() node");
            return EmbeddedKafka.start(this);
        }
    }

    private static EmbeddedKafka start(Builder settings) throws IOException {
        Path root = Files.createTempDirectory("vqrae-kafka-");
        try {
            Path dataDir = Files.createDirectory(root.resolve("data"));
            int clientPort = freePort();
            int controllerPort = freePort();
            Properties props = new Properties();
            props.put("process.roles", "broker,controller");
            props.put("node.id", "1");
            props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
            props.put("controller.listener.names", "CONTROLLER");
            props.put("log.dirs", dataDir.toString());
            props.put("num.partitions", "1");
            props.put("offsets.topic.replication.factor", "1");
            props.put("offsets.topic.num.partitions", "1");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("transaction.state.log.num.partitions", "1");
            props.put("share.coordinator.state.topic.replication.factor", "1");
            props.put("share.coordinator.state.topic.min.isr", "1");
            props.put("group.initial.rebalance.delay.ms", "0");
            props.put("auto.create.topics.enable", "false");
            props.put("message.max.bytes", Integer.toString(settings.maxMessageBytes));
            props.put("replica.fetch.max.bytes", Integer.toString(settings.maxMessageBytes));

            TlsMaterial tls = null;
            String superUserPassword = null;
            List<String> scramArguments = new ArrayList<>();
            if (settings.secured) {
                tls = TlsMaterial.generate(Files.createDirectory(root.resolve("tls")));
                superUserPassword = TlsMaterial.randomSecret();
                int internalPort = freePort();
                props.put("listeners", "SASL_SSL://127.0.0.1:" + clientPort + ",INTERNAL://127.0.0.1:" + internalPort
                        + ",CONTROLLER://127.0.0.1:" + controllerPort);
                props.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + clientPort + ",INTERNAL://127.0.0.1:" + internalPort);
                props.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
                props.put("inter.broker.listener.name", "INTERNAL");
                props.put("sasl.enabled.mechanisms", SCRAM_MECHANISM);
                props.put("listener.name.sasl_ssl." + SCRAM_MECHANISM.toLowerCase() + ".sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
                props.putAll(tls.brokerProperties());
                props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
                // ANONYMOUS is the principal of the node's own PLAINTEXT listeners (broker registration and
                // heartbeats to the controller, transaction markers to itself); clients never see them.
                props.put("super.users", "User:" + SUPER_USER + ";User:ANONYMOUS");
                scramArguments.add(scramArgument(SUPER_USER, superUserPassword));
                settings.scramUsers.forEach((name, password) -> scramArguments.add(scramArgument(name, password)));
            } else {
                props.put("listeners", "PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
                props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
                props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
                props.put("inter.broker.listener.name", "PLAINTEXT");
            }
            KafkaConfig config = KafkaConfig.fromProps(props, false);

            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setNodeId(1)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setDirectories(List.of(dataDir.toString()))
                    .setMetadataLogDirectory(dataDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .setScramArguments(scramArguments)
                    .run();

            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            try {
                server.startup();
            } catch (RuntimeException e) {
                // A half-started node holds threads, ports and files in the data directory deleted below.
                try {
                    stop(server);
                } catch (RuntimeException shutdownFailure) {
                    e.addSuppressed(shutdownFailure);
                }
                throw e;
            }
            return new EmbeddedKafka(root, server, "127.0.0.1:" + clientPort, tls, superUserPassword);
        } catch (Exception e) {
            deleteRecursively(root);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("Could not start the embedded Kafka broker", e);
        }
    }

    /** One user in the storage formatter's {@code --add-scram} syntax. */
    private static String scramArgument(String name, String password) {
        return SCRAM_MECHANISM + "=[name=" + name + ",password=" + password + "]";
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Whether clients must authenticate over SASL_SSL ({@link Builder#secured()}). */
    public boolean secured() {
        return tls != null;
    }

    /**
     * What a client needs to connect to this secured node as {@code user}: the settings a job takes as
     * {@code kafka.properties.*}. The password is not checked here, so a test can connect with a wrong one.
     */
    public Map<String, String> clientProperties(String user, String password) {
        Preconditions.checkState(secured(), "a PLAINTEXT node takes no client security settings");
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", "SASL_SSL");
        props.put("sasl.mechanism", SCRAM_MECHANISM);
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + user + "\" password=\"" + password + "\";");
        props.putAll(tls.clientProperties());
        return props;
    }

    /** {@link #clientProperties} of the node's super user, which every ACL check allows. */
    public Map<String, String> superUserProperties() {
        return clientProperties(SUPER_USER, superUserPassword);
    }

    /**
     * The passwords this node generated (the super user's, the keystore's and the truststore's): what a test
     * checks never appears in a log or message.
     */
    public List<String> generatedSecrets() {
        Preconditions.checkState(secured(), "a PLAINTEXT node has no secrets");
        return List.of(superUserPassword, tls.keystorePassword(), tls.truststorePassword());
    }

    /**
     * Creates the ACLs as the super user and returns once the broker authorizes with them: the controller
     * commits ACLs to the metadata log before the broker's authorizer has applied them.
     */
    public void grant(Collection<AclBinding> acls) throws InterruptedException {
        Properties props = new Properties();
        props.putAll(superUserProperties());
        props.put("bootstrap.servers", bootstrapServers);
        try (Admin admin = Admin.create(props)) {
            admin.createAcls(acls).all().get();
            long deadline = System.nanoTime() + ACL_PROPAGATION.toNanos();
            for (AclBinding acl : acls) {
                while (admin.describeAcls(acl.toFilter()).values().get().isEmpty()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("The broker did not apply " + acl + " within " + ACL_PROPAGATION);
                    }
                    Thread.sleep(20);
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not create ACLs " + acls + ": " + e.getCause(), e.getCause());
        }
    }

    @Override
    public void close() {
        try {
            stop(server);
        } finally {
            deleteRecursively(root);
        }
    }

    private static void stop(KafkaRaftServer server) {
        server.shutdown();
        server.awaitShutdown();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) {
        try {
            FileUtils.deleteDirectory(dir.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete " + dir, e);
        }
    }
}
