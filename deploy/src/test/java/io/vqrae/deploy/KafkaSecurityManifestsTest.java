package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.kafka.KafkaAuthorizationSimple;
import io.strimzi.api.kafka.model.kafka.listener.GenericKafkaListener;
import io.strimzi.api.kafka.model.kafka.listener.KafkaListenerAuthenticationScramSha512;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple;
import io.strimzi.api.kafka.model.user.KafkaUserScramSha512ClientAuthentication;
import io.strimzi.api.kafka.model.user.acl.AclResourcePatternType;
import io.strimzi.api.kafka.model.user.acl.AclRule;
import io.strimzi.api.kafka.model.user.acl.AclRuleGroupResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTopicResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTransactionalIdResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleType;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.kafka.JobPermissions;
import io.vqrae.pipeline.kafka.KafkaAccessException;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.TopicProvisioner;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka secured as the job expects it: the Strimzi Kafka's listener (TLS, SCRAM-SHA-512, reachable from the job's
 * pods only), its authorizer, the KafkaUser's ACLs against the job's own list of what it needs ({@link
 * JobPermissions}), the job's client settings against the Secrets its pods mount, and finally the KafkaUser's ACLs
 * and the job's client settings against a real broker (the project's {@link EmbeddedKafka} in its secured mode), with
 * the job's own start-up check.
 */
class KafkaSecurityManifestsTest {
    /** The cluster CA certificate's key in Strimzi's Secret {@code <cluster>-cluster-ca-cert}. */
    static final String CA_CERTIFICATE = "ca.crt";
    /** The password's key in the Secret the User Operator writes for a SCRAM-SHA-512 KafkaUser (named after it). */
    static final String USER_PASSWORD = "password";
    /** How the job's settings read a file of a mounted Secret: Kafka's DirectoryConfigProvider, {@code ${alias:DIR:FILE}}. */
    static final Pattern FROM_DIRECTORY = Pattern.compile("\\$\\{(\\w+):([^:}]+):([^}]+)}");

    static Kafka kafka;
    static KafkaUser user;
    static FlinkDeployment deployment;
    static JobConfig job;
    static List<KafkaTopic> topics;

    @BeforeAll
    static void parse(@TempDir Path tmp) {
        kafka = Manifests.bind(Manifests.one("kafka.yaml", "Kafka"), Kafka.class);
        user = Manifests.bind(Manifests.one("kafka-user.yaml", "KafkaUser"), KafkaUser.class);
        deployment = Manifests.flinkDeployment().resource();
        job = Manifests.jobConfig(Manifests.bind(Manifests.one("job-config.yaml", "ConfigMap"), ConfigMap.class), "job.yaml", tmp);
        topics = Manifests.ofKind("kafka-topics.yaml", "KafkaTopic").stream().map(d -> Manifests.bind(d, KafkaTopic.class)).toList();
    }

    @Test
    void theListener_isTlsWithScramSha512_forTheJobsPodsOnly() {
        List<GenericKafkaListener> listeners = kafka.getSpec().getKafka().getListeners();
        assertThat(listeners).as("no other way in").hasSize(1);
        GenericKafkaListener listener = listeners.get(0);
        assertThat(listener.isTls()).isTrue();
        assertThat(listener.getAuth()).isInstanceOf(KafkaListenerAuthenticationScramSha512.class);
        assertThat(job.kafka().bootstrapServers()).isEqualTo(kafka.getMetadata().getName() + "-kafka-bootstrap:" + listener.getPort());
        // The NetworkPolicy the Cluster Operator writes for the listener admits these peers only: the pods Flink
        // labels app: <FlinkDeployment name>, the JobManager (the job's client) and the TaskManagers.
        assertThat(listener.getNetworkPolicyPeers()).singleElement().satisfies(peer -> {
            assertThat(peer.getNamespaceSelector()).isNull();
            assertThat(peer.getIpBlock()).isNull();
            LabelSelector pods = peer.getPodSelector();
            assertThat(pods.getMatchExpressions()).isEmpty();
            assertThat(pods.getMatchLabels()).containsExactly(Map.entry("app", deployment.getMetadata().getName()));
        });
    }

    @Test
    void theBrokersAuthorizeEveryRequest() {
        assertThat(kafka.getSpec().getKafka().getAuthorization()).isInstanceOf(KafkaAuthorizationSimple.class);
        assertThat(((KafkaAuthorizationSimple) kafka.getSpec().getKafka().getAuthorization()).getSuperUsers())
                .as("no super user but the operators' own").isNullOrEmpty();
    }

    @Test
    void theKafkaUser_hasExactlyWhatTheJobChecksFor() {
        assertThat(user.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", kafka.getMetadata().getName());
        assertThat(user.getSpec().getAuthentication()).isInstanceOf(KafkaUserScramSha512ClientAuthentication.class);
        assertThat(user.getSpec().getAuthorization()).isInstanceOf(KafkaUserAuthorizationSimple.class);
        List<String> granted = acls().stream().flatMap(rule -> describe(rule).stream()).toList();
        List<String> required = JobPermissions.required(job.kafka()).stream()
                .map(p -> describe(p.resourceType(), p.name(), p.patternType(), p.operation())).toList();
        assertThat(required).as("JobPermissions' checks").hasSize(9);
        assertThat(granted).containsExactlyInAnyOrderElementsOf(required);
    }

    @Test
    void theJobsClients_logInAsTheUser_withTheSecretsEveryPodMounts() {
        Map<String, String> properties = job.kafka().properties();
        assertThat(properties).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        assertThat(KafkaClients.identity(job.kafka())).isEqualTo("User:" + user.getMetadata().getName() + " (SASL_SSL, SCRAM-SHA-512)");

        Matcher password = FROM_DIRECTORY.matcher(properties.get("sasl.jaas.config"));
        assertThat(password.find()).as("the password comes from a file").isTrue();
        assertThat(properties).containsEntry("config.providers", password.group(1))
                .containsEntry("config.providers." + password.group(1) + ".class", "org.apache.kafka.common.config.provider.DirectoryConfigProvider");
        assertThat(password.group(3)).isEqualTo(USER_PASSWORD);
        Path truststore = Path.of(properties.get("ssl.truststore.location"));
        assertThat(properties).containsEntry("ssl.truststore.type", "PEM");
        assertThat(truststore.getFileName().toString()).isEqualTo(CA_CERTIFICATE);

        // Where the clients run: the job's client in the JobManager, sources and sinks in the TaskManagers.
        boolean byName = OperatorPods.mergesArraysByName(deployment);
        for (PodSpec pod : List.of(OperatorPods.jobManager(deployment, byName).getSpec(), OperatorPods.taskManager(deployment, byName).getSpec())) {
            assertThat(secretMountedAt(pod, Path.of(password.group(2)))).isEqualTo(user.getMetadata().getName());
            assertThat(secretMountedAt(pod, truststore.getParent())).isEqualTo(kafka.getMetadata().getName() + "-cluster-ca-cert");
        }
    }

    /**
     * The job's client settings, with the two Secrets as files (the broker's CA certificate, the user's password),
     * against a real broker that authenticates with SCRAM-SHA-512 over TLS and authorizes with the KafkaUser's ACLs:
     * the job's start-up check ({@link TopicProvisioner#provision}, which runs {@link JobPermissions}) passes, and
     * fails naming the permission when one ACL is missing.
     */
    @Test
    void theKafkaUsersAcls_passTheJobsOwnCheck_onARealBroker(@TempDir Path secrets) throws Exception {
        String name = user.getMetadata().getName();
        String password = "pw-" + Long.toHexString(System.nanoTime());
        int largestTopic = topics.stream().mapToInt(t -> Integer.parseInt(t.getSpec().getConfig().get("max.message.bytes").toString())).max().orElseThrow();
        try (EmbeddedKafka broker = EmbeddedKafka.builder().secured().scramUser(name, password).maxMessageBytes(largestTopic).start()) {
            createTopics(broker);
            Path userDir = Files.createDirectories(secrets.resolve("user"));
            Path caDir = Files.createDirectories(secrets.resolve("ca"));
            Files.writeString(userDir.resolve(USER_PASSWORD), password);
            Files.writeString(caDir.resolve(CA_CERTIFICATE), caCertificate(broker));
            JobConfig.Kafka local = asMounted(broker, userDir, caDir);
            RecordLimits wanted = RecordLimits.forModel(ModelShapes.of(job.model()), job.features(), job.limits(), job.kafka().maxRecordBytes());

            List<AclBinding> acls = acls().stream().flatMap(rule -> bindings(rule, name).stream()).toList();
            broker.grant(acls.subList(1, acls.size()));
            assertThatThrownBy(() -> TopicProvisioner.provision(local, wanted)).isInstanceOf(KafkaAccessException.class)
                    .hasMessageContaining("denies User:" + name + " (SASL_SSL, SCRAM-SHA-512) what the job needs: READ on topic "
                            + job.kafka().topics().input() + " (kafka.topics.input)");
            broker.grant(acls.subList(0, 1));
            assertThat(TopicProvisioner.provision(local, wanted)).isEqualTo(wanted);
        }
    }

    /** The job's Kafka settings, the bootstrap address the test broker's, the Secrets' mount paths these folders. */
    static JobConfig.Kafka asMounted(EmbeddedKafka broker, Path userDir, Path caDir) {
        Map<String, String> properties = new HashMap<>();
        Path truststore = Path.of(job.kafka().properties().get("ssl.truststore.location"));
        job.kafka().properties().forEach((key, value) -> properties.put(key, value
                .replace(truststore.getParent().toString(), caDir.toString())
                .replace(passwordDirectory(), userDir.toString())));
        return job.kafka().with(kafka -> kafka.bootstrapServers(broker.bootstrapServers()).properties(properties));
    }

    static String passwordDirectory() {
        Matcher password = FROM_DIRECTORY.matcher(job.kafka().properties().get("sasl.jaas.config"));
        assertThat(password.find()).isTrue();
        return password.group(2);
    }

    /** The KafkaTopics of kafka-topics.yaml on the test broker, as the Topic Operator would create them. */
    static void createTopics(EmbeddedKafka broker) throws Exception {
        Properties admin = new Properties();
        admin.putAll(broker.superUserProperties());
        admin.put("bootstrap.servers", broker.bootstrapServers());
        List<NewTopic> create = new ArrayList<>();
        for (KafkaTopic topic : topics) {
            Map<String, String> config = new HashMap<>();
            topic.getSpec().getConfig().forEach((key, value) -> config.put(key, value.toString()));
            create.add(new NewTopic(topic.getSpec().getTopicName(), 1, (short) 1).configs(config));
        }
        try (Admin client = Admin.create(admin)) {
            client.createTopics(create).all().get();
        }
    }

    /** The test broker's CA certificate as PEM, as Strimzi's cluster CA Secret holds it. */
    static String caCertificate(EmbeddedKafka broker) throws Exception {
        Map<String, String> client = broker.superUserProperties();
        KeyStore store = KeyStore.getInstance(client.get("ssl.truststore.type"));
        try (InputStream in = Files.newInputStream(Path.of(client.get("ssl.truststore.location")))) {
            store.load(in, client.get("ssl.truststore.password").toCharArray());
        }
        StringBuilder pem = new StringBuilder();
        for (String alias : Collections.list(store.aliases())) {
            Certificate certificate = store.getCertificate(alias);
            pem.append("-----BEGIN CERTIFICATE-----\n")
                    .append(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded()))
                    .append("\n-----END CERTIFICATE-----\n");
        }
        return pem.toString();
    }

    /** The name of the Secret whose volume the pod's main container mounts at {@code path}. */
    static String secretMountedAt(PodSpec pod, Path path) {
        VolumeMount mount = DeployManifestsTest.mounts(pod).stream().filter(m -> path.equals(Path.of(m.getMountPath())))
                .findFirst().orElseThrow(() -> new AssertionError("nothing mounted at " + path));
        Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
        assertThat(volume.getSecret()).as("volume %s", volume.getName()).isNotNull();
        return volume.getSecret().getSecretName();
    }

    static List<AclRule> acls() {
        return ((KafkaUserAuthorizationSimple) user.getSpec().getAuthorization()).getAcls();
    }

    /** A rule's ACLs as the User Operator creates them: one per operation, allow, the user's principal. */
    static List<AclBinding> bindings(AclRule rule, String userName) {
        ResourcePattern resource = new ResourcePattern(resourceType(rule.getResource()), resourceName(rule.getResource()), patternType(rule.getResource()));
        return rule.getOperations().stream().map(operation -> new AclBinding(resource, new AccessControlEntry("User:" + userName,
                rule.getHost() == null ? "*" : rule.getHost(), kafkaOperation(operation), AclPermissionType.ALLOW))).toList();
    }

    /** {@code WRITE on TOPIC vqrae.tokens (LITERAL)}: one per operation of the rule. */
    static List<String> describe(AclRule rule) {
        assertThat(rule.getType() == null || rule.getType() == AclRuleType.ALLOW).as("allow rules only").isTrue();
        assertThat(rule.getHost() == null || "*".equals(rule.getHost())).as("from any host").isTrue();
        return rule.getOperations().stream()
                .map(op -> describe(resourceType(rule.getResource()), resourceName(rule.getResource()), patternType(rule.getResource()), kafkaOperation(op)))
                .toList();
    }

    static String describe(ResourceType type, String name, PatternType pattern, AclOperation operation) {
        return operation + " on " + type + " " + name + " (" + pattern + ")";
    }

    static ResourceType resourceType(AclRuleResource resource) {
        if (resource instanceof AclRuleTopicResource) {
            return ResourceType.TOPIC;
        } else if (resource instanceof AclRuleGroupResource) {
            return ResourceType.GROUP;
        } else if (resource instanceof AclRuleTransactionalIdResource) {
            return ResourceType.TRANSACTIONAL_ID;
        }
        throw new AssertionError("an ACL on " + resource.getType() + ", which the job does not need");
    }

    static String resourceName(AclRuleResource resource) {
        if (resource instanceof AclRuleTopicResource topic) {
            return topic.getName();
        } else if (resource instanceof AclRuleGroupResource group) {
            return group.getName();
        }
        return ((AclRuleTransactionalIdResource) resource).getName();
    }

    static PatternType patternType(AclRuleResource resource) {
        AclResourcePatternType pattern;
        if (resource instanceof AclRuleTopicResource topic) {
            pattern = topic.getPatternType();
        } else if (resource instanceof AclRuleGroupResource group) {
            pattern = group.getPatternType();
        } else {
            pattern = ((AclRuleTransactionalIdResource) resource).getPatternType();
        }
        return pattern == null || pattern == AclResourcePatternType.LITERAL ? PatternType.LITERAL : PatternType.PREFIXED;
    }

    /** Strimzi's operation names are Kafka's without the underscore ({@code DescribeConfigs}, DESCRIBE_CONFIGS). */
    static AclOperation kafkaOperation(io.strimzi.api.kafka.model.user.acl.AclOperation operation) {
        for (AclOperation kafkaOperation : AclOperation.values()) {
            if (kafkaOperation.name().replace("_", "").equals(operation.name())) {
                return kafkaOperation;
            }
        }
        throw new AssertionError("no Kafka operation " + operation);
    }
}
