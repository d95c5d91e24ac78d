package io.vqrae.pipeline.kafka;

import io.vqrae.pipeline.config.ConfigException;
import io.vqrae.pipeline.config.JobConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka permissions the streaming job's principal needs, and the check, before the job is submitted, that
 * the cluster grants them: without it a missing ACL shows up minutes later as a task failing and restarting
 * (or, for the group, as offset commits that fail quietly on every checkpoint).
 *
 * <p>The list is the least the job needs with {@code kafka.create-topics: false} and existing topics; each
 * operation implies DESCRIBE on its resource, so no DESCRIBE is listed. docs/pipeline.md ("Kafka ACLs")
 * shows it with the commands that grant it.
 */
public final class JobPermissions {
    /**
     * The transactional id the check initializes: under the job's prefix, so the same ACL covers it, and
     * outside the {@code <prefix>-<subtask>-<n>} ids the sink uses, so it fences no producer of the job.
     */
    static final String PROBE_TRANSACTIONAL_ID_SUFFIX = "-vqrae-preflight";

    /** The operations that imply DESCRIBE (Kafka's authorizer allows DESCRIBE to whoever holds one). */
    private static final Set<AclOperation> IMPLY_DESCRIBE =
            EnumSet.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER);

    /** Marks a topic the principal may not describe (compared by identity). */
    private static final Set<AclOperation> NOT_DESCRIBABLE = Collections.unmodifiableSet(EnumSet.noneOf(AclOperation.class));

    private JobPermissions() {}

    /**
     * One permission on one resource.
     *
     * @param resourceType TOPIC, GROUP or TRANSACTIONAL_ID
     * @param name the resource's name (a prefix for {@link PatternType#PREFIXED})
     * @param patternType LITERAL, or PREFIXED for the transactional ids
     * @param operation the operation the job performs
     * @param key the configuration key that names the resource
     */
    public record Permission(ResourceType resourceType, String name, PatternType patternType, AclOperation operation, String key) {
        public Permission {
            Objects.requireNonNull(resourceType, "resourceType");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(patternType, "patternType");
            Objects.requireNonNull(operation, "operation");
            Objects.requireNonNull(key, "key");
        }

        /** {@code READ on topic vqrae.images (kafka.topics.input)}. */
        public String describe() {
            String resource = switch (resourceType) {
                case TRANSACTIONAL_ID -> "transactional id";
                default -> resourceType.name().toLowerCase(Locale.ROOT);
            };
            String pattern = patternType == PatternType.PREFIXED ? "s prefixed " : " ";
            return operation + " on " + resource + pattern + name + " (" + key + ")";
        }
    }

    /** What the streaming job does on the cluster, in the order docs/pipeline.md lists it. */
    public static List<Permission> required(JobConfig.Kafka kafka) {
        JobConfig.Topics topics = kafka.topics();
        List<Permission> required = new ArrayList<>();
        // Fetch, and the source's offset commits on checkpoints.
        required.add(new Permission(ResourceType.TOPIC, topics.input(), PatternType.LITERAL, AclOperation.READ, "kafka.topics.input"));
        Map<String, String> outputs = new LinkedHashMap<>();
        outputs.put(topics.tokens(), "kafka.topics.tokens");
        outputs.put(topics.features(), "kafka.topics.features");
        outputs.put(topics.deadLetter(), "kafka.topics.dead-letter");
        outputs.forEach((topic, key) -> {
            // Produce and AddPartitionsToTxn; the provisioner reads max.message.bytes to size records.
            required.add(new Permission(ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.WRITE, key));
            required.add(new Permission(ResourceType.TOPIC, topic, PatternType.LITERAL, AclOperation.DESCRIBE_CONFIGS, key));
        });
        // OffsetCommit on each checkpoint (for lag monitoring and `starting-offsets: committed`).
        required.add(new Permission(ResourceType.GROUP, kafka.groupId(), PatternType.LITERAL, AclOperation.READ, "kafka.group-id"));
        // InitProducerId, AddPartitionsToTxn and EndTxn of the sink's transactional producers, whose ids
        // the sink numbers under the prefix; a transactional producer needs no IDEMPOTENT_WRITE on the cluster.
        required.add(new Permission(ResourceType.TRANSACTIONAL_ID, kafka.transactionalIdPrefix(), PatternType.PREFIXED,
                AclOperation.WRITE, "kafka.transactional-id-prefix"));
        return List.copyOf(required);
    }

    /**
     * Checks every {@link #required} permission with the request that is exact for it and cheap, and fails
     * with all that are missing at once. The topics must exist.
     *
     * @throws KafkaAccessException naming the principal and every missing permission
     * @throws ConfigException if a topic does not exist
     */
    static void verify(Admin admin, JobConfig.Kafka kafka) throws InterruptedException, ExecutionException {
        Set<Permission> missing = new LinkedHashSet<>();
        List<Permission> required = required(kafka);
        Map<String, Set<AclOperation>> topicOperations = topicOperations(admin, kafka);
        for (Permission permission : required) {
            switch (permission.resourceType()) {
                case TOPIC -> {
                    Set<AclOperation> allowed = topicOperations.get(permission.name());
                    if (allowed == NOT_DESCRIBABLE) {
                        // Only what implies DESCRIBE is surely missing; whether DESCRIBE_CONFIGS is allowed
                        // the broker does not say about a topic the principal may not describe.
                        if (IMPLY_DESCRIBE.contains(permission.operation())) {
                            missing.add(permission);
                        }
                    } else if (allowed != null && !allowed.contains(permission.operation())) {
                        missing.add(permission);
                    }
                }
                case GROUP -> {
                    if (!groupAllowsRead(admin, kafka)) {
                        missing.add(permission);
                    }
                }
                case TRANSACTIONAL_ID -> {
                    if (!transactionalIdsAllowWrite(admin, kafka)) {
                        missing.add(permission);
                    }
                }
                default -> throw new IllegalStateException("No check for " + permission);
            }
        }
        if (!missing.isEmpty()) {
            throw KafkaAccessException.denied(kafka.bootstrapServers(), KafkaClients.identity(kafka), missing);
        }
    }

    /**
     * The operations the broker's authorizer allows on each topic, implied ones included, from one Metadata
     * request ({@code includeAuthorizedOperations}); {@link #NOT_DESCRIBABLE} for a topic the principal may
     * not even describe, null where the broker does not report operations.
     */
    private static Map<String, Set<AclOperation>> topicOperations(Admin admin, JobConfig.Kafka kafka)
            throws InterruptedException, ExecutionException {
        JobConfig.Topics topics = kafka.topics();
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put(topics.input(), "kafka.topics.input");
        keys.put(topics.tokens(), "kafka.topics.tokens");
        keys.put(topics.features(), "kafka.topics.features");
        keys.put(topics.deadLetter(), "kafka.topics.dead-letter");
        Map<String, Set<AclOperation>> operations = new LinkedHashMap<>();
        for (int attempt = 1; ; attempt++) {
            Map<String, KafkaFuture<TopicDescription>> described = admin.describeTopics(keys.keySet(),
                    new DescribeTopicsOptions().includeAuthorizedOperations(true)).topicNameValues();
            String unknown = null;
            for (Map.Entry<String, KafkaFuture<TopicDescription>> entry : described.entrySet()) {
                try {
                    operations.put(entry.getKey(), entry.getValue().get().authorizedOperations());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicAuthorizationException) {
                        operations.put(entry.getKey(), NOT_DESCRIBABLE);
                    } else if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        unknown = entry.getKey();
                    } else {
                        throw e;
                    }
                }
            }
            if (unknown == null) {
                return operations;
            }
            // A topic created a moment ago may not have reached every broker's metadata yet.
            if (attempt == 10) {
                throw new ConfigException(keys.get(unknown), "topic " + unknown + " does not exist"
                        + (kafka.createTopics() ? "" : " and kafka.create-topics is false"));
            }
            Thread.sleep(100L * attempt);
        }
    }

    /**
     * Whether the group allows READ. DescribeGroups reports authorized operations only for a group that
     * exists, which the job's group does not before its first checkpoint; an OffsetCommit is authorized
     * like the source's own commits (READ on the group, checked before anything else). This one commits to
     * a partition no topic can have, so the broker writes nothing: a topic or partition error means the
     * group check passed.
     */
    private static boolean groupAllowsRead(Admin admin, JobConfig.Kafka kafka) throws InterruptedException, ExecutionException {
        TopicPartition impossible = new TopicPartition(kafka.topics().input(), Integer.MAX_VALUE);
        try {
            admin.alterConsumerGroupOffsets(kafka.groupId(), Map.of(impossible, new OffsetAndMetadata(0))).all().get();
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupAuthorizationException) {
                return false;
            }
            if (e.getCause() instanceof UnknownTopicOrPartitionException || e.getCause() instanceof TopicAuthorizationException) {
                return true;
            }
            throw e;
        }
    }

    /**
     * Whether the transactional ids under the prefix allow WRITE: no request reports that without using
     * it, so this initializes one id under the prefix (InitProducerId, as each of the sink's producers
     * does), which the transaction coordinator then keeps until {@code transactional.id.expiration.ms}
     * (7 days by default) of disuse.
     */
    private static boolean transactionalIdsAllowWrite(Admin admin, JobConfig.Kafka kafka) throws InterruptedException, ExecutionException {
        try {
            admin.fenceProducers(List.of(kafka.transactionalIdPrefix() + PROBE_TRANSACTIONAL_ID_SUFFIX)).all().get();
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TransactionalIdAuthorizationException) {
                return false;
            }
            throw e;
        }
    }
}
