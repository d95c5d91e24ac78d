package io.vqrae.pipeline.kafka;

import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the job's missing topics with a {@code max.message.bytes} that fits what will be written to
 * them, checks that the cluster grants the job what it needs ({@link JobPermissions}), and returns the
 * record limits the job must respect given topics that already exist (whose limit may be lower than wanted:
 * the encoder then dead-letters oversized records instead of the sink failing).
 */
public final class TopicProvisioner {
    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    /**
     * How long the first request may wait for the cluster before the job is refused as unreachable: short
     * enough that a person hears about a wrong address within 15 s of starting the command.
     */
    static final Duration REACH_TIMEOUT = Duration.ofSeconds(8);

    /** The admin client's id; the command line's log configuration keeps its connection retries quiet. */
    static final String CLIENT_ID = "vqrae-provisioner";

    private TopicProvisioner() {}

    /**
     * Ensures the topics exist (creating missing ones when {@code kafka.create-topics} is on), checks the
     * job's permissions on them, and returns {@code wanted} capped at the smallest {@code max.message.bytes}
     * among the output topics.
     *
     * @throws KafkaUnreachableException if the cluster does not answer within {@link #REACH_TIMEOUT}
     * @throws KafkaAccessException if the cluster does not authenticate the client or denies the job a permission
     * @throws ConfigException if a topic is missing, or an existing output topic takes less than
     *     {@link RecordLimits#MIN_RECORD_BYTES}
     */
    public static RecordLimits provision(JobConfig.Kafka kafka, RecordLimits wanted) throws InterruptedException {
        JobConfig.Topics topics = kafka.topics();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        sizes.put(topics.input(), wanted.maxInputRecordBytes());
        sizes.put(topics.tokens(), wanted.maxRecordBytes());
        sizes.put(topics.features(), wanted.maxRecordBytes());
        sizes.put(topics.deadLetter(), wanted.maxRecordBytes());
        Admin admin = admin(kafka);
        try {
            Set<String> existing = listTopics(admin, kafka);
            if (kafka.createTopics()) {
                List<NewTopic> missing = new ArrayList<>();
                sizes.forEach((topic, bytes) -> {
                    if (!existing.contains(topic)) {
                        missing.add(new NewTopic(topic, kafka.topicPartitions(), (short) kafka.replicationFactor())
                                .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(bytes))));
                    }
                });
                create(admin, kafka, missing);
            }
            JobPermissions.verify(admin, kafka);
            RecordLimits limits = wanted;
            for (Map.Entry<String, Integer> entry : maxMessageBytes(admin, List.of(topics.tokens(), topics.features(), topics.deadLetter())).entrySet()) {
                int topicBytes = entry.getValue();
                if (topicBytes < RecordLimits.MIN_RECORD_BYTES) {
                    throw new ConfigException("kafka.topics", "topic " + entry.getKey() + " takes records of at most " + topicBytes
                            + " bytes (max.message.bytes); the job needs at least " + RecordLimits.MIN_RECORD_BYTES);
                }
                if (topicBytes < wanted.maxRecordBytes()) {
                    LOG.warn("Topic {} has max.message.bytes={} < {} wanted; larger records will be dead-lettered",
                            entry.getKey(), topicBytes, wanted.maxRecordBytes());
                    limits = limits.cappedAt(topicBytes);
                }
            }
            return limits;
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not provision topics on " + kafka.bootstrapServers() + ": " + e.getCause(), e.getCause());
        } finally {
            // A request still pending (the cluster never answered) must not hold the client open for its full timeout.
            admin.close(Duration.ZERO);
        }
    }

    /**
     * Ensures the input topic exists (creating it when missing and {@code kafka.create-topics} is on) and
     * takes records of {@code maxInputRecordBytes}: what a loader needs before it writes images.
     *
     * @throws ConfigException if the topic is missing and may not be created, or takes smaller records
     */
    public static void provisionInput(JobConfig.Kafka kafka, int maxInputRecordBytes) throws InterruptedException {
        String topic = kafka.topics().input();
        Admin admin = admin(kafka);
        try {
            if (!listTopics(admin, kafka).contains(topic)) {
                if (!kafka.createTopics()) {
                    throw new ConfigException("kafka.topics.input", "topic " + topic + " does not exist and kafka.create-topics is false");
                }
                create(admin, kafka, List.of(new NewTopic(topic, kafka.topicPartitions(), (short) kafka.replicationFactor())
                        .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxInputRecordBytes)))));
            }
            int topicBytes = maxMessageBytes(admin, List.of(topic)).get(topic);
            if (topicBytes < maxInputRecordBytes) {
                throw new ConfigException("limits.max-image-bytes", "topic " + topic + " takes records of at most " + topicBytes
                        + " bytes (max.message.bytes), less than the " + maxInputRecordBytes + " an image of limits.max-image-bytes"
                        + " needs: raise the topic's max.message.bytes or lower limits.max-image-bytes");
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not provision topic " + topic + " on " + kafka.bootstrapServers() + ": " + e.getCause(), e.getCause());
        } finally {
            admin.close(Duration.ZERO);
        }
    }

    private static Admin admin(JobConfig.Kafka kafka) {
        try {
            Properties props = KafkaClients.properties(kafka);
            props.put(AdminClientConfig.CLIENT_ID_CONFIG, CLIENT_ID);
            return Admin.create(props);
        } catch (KafkaException e) {
            throw new KafkaUnreachableException(kafka.bootstrapServers(), rootMessage(e), e);
        }
    }

    /** The topics the client may see: the first request, which tells whether the cluster answers and authenticates it. */
    private static Set<String> listTopics(Admin admin, JobConfig.Kafka kafka) throws InterruptedException, ExecutionException {
        String bootstrapServers = kafka.bootstrapServers();
        try {
            return admin.listTopics(new ListTopicsOptions().timeoutMs((int) REACH_TIMEOUT.toMillis()))
                    .names().get(REACH_TIMEOUT.toMillis() + 2_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new KafkaUnreachableException(bootstrapServers, "no answer within " + REACH_TIMEOUT.toSeconds() + " s", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new KafkaUnreachableException(bootstrapServers, "no answer within " + REACH_TIMEOUT.toSeconds() + " s", e.getCause());
            }
            // A wrong password fails here at once: the admin client does not retry an authentication failure.
            if (e.getCause() instanceof AuthenticationException auth) {
                throw KafkaAccessException.notAuthenticated(bootstrapServers, KafkaClients.identity(kafka), auth);
            }
            throw e;
        }
    }

    private static void create(Admin admin, JobConfig.Kafka kafka, List<NewTopic> topics) throws InterruptedException, ExecutionException {
        if (topics.isEmpty()) {
            return;
        }
        List<JobPermissions.Permission> denied = new ArrayList<>();
        for (var entry : admin.createTopics(topics).values().entrySet()) {
            try {
                entry.getValue().get();
                LOG.info("Created topic {}", entry.getKey());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicAuthorizationException || e.getCause() instanceof ClusterAuthorizationException) {
                    denied.add(new JobPermissions.Permission(
                            ResourceType.TOPIC, entry.getKey(), PatternType.LITERAL, AclOperation.CREATE, "kafka.create-topics"));
                } else if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
                // TopicExistsException: another job instance created it between our listing and our request,
                // the state we want.
            }
        }
        if (!denied.isEmpty()) {
            throw KafkaAccessException.denied(kafka.bootstrapServers(), KafkaClients.identity(kafka), denied);
        }
    }

    private static Map<String, Integer> maxMessageBytes(Admin admin, List<String> topics)
            throws InterruptedException, ExecutionException {
        List<ConfigResource> resources = topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> configs;
        for (int attempt = 1; ; attempt++) {
            try {
                configs = admin.describeConfigs(resources).all().get();
                break;
            } catch (ExecutionException e) {
                // A topic created a moment ago may not have reached every broker's metadata yet.
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || attempt == 10) {
                    throw e;
                }
                Thread.sleep(100L * attempt);
            }
        }
        Map<String, Integer> out = new HashMap<>();
        configs.forEach((resource, config) -> out.put(
                resource.name(), Integer.parseInt(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value())));
        return out;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage();
    }
}
