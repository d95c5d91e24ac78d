package io.vqrae.pipeline.kafka;

import io.vqrae.pipeline.config.JobConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the job's missing topics with a {@code max.message.bytes} that fits what will be written to
 * them, and reports the record limit the job must respect given topics that already exist (whose limit
 * may be lower than wanted: the encoder then dead-letters oversized records instead of the sink failing).
 */
public final class TopicProvisioner {
    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    private TopicProvisioner() {}

    /**
     * Ensures the topics exist (creating missing ones when {@code kafka.create-topics} is on) and returns
     * the smallest {@code max.message.bytes} among the output topics, capped at {@code wantedRecordBytes}.
     */
    public static int provision(JobConfig config, int wantedRecordBytes) throws InterruptedException {
        JobConfig.Kafka kafka = config.kafka();
        JobConfig.Topics topics = kafka.topics();
        Map<String, Integer> wanted = new LinkedHashMap<>();
        wanted.put(topics.input(), RecordSizing.maxInputRecordBytes(config));
        wanted.put(topics.tokens(), wantedRecordBytes);
        wanted.put(topics.features(), wantedRecordBytes);
        wanted.put(topics.deadLetter(), wantedRecordBytes);
        try (Admin admin = Admin.create(KafkaClients.properties(kafka))) {
            Set<String> existing = admin.listTopics().names().get();
            if (kafka.createTopics()) {
                List<NewTopic> missing = new ArrayList<>();
                wanted.forEach((topic, bytes) -> {
                    if (!existing.contains(topic)) {
                        missing.add(new NewTopic(topic, kafka.topicPartitions(), kafka.replicationFactor())
                                .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(bytes))));
                    }
                });
                create(admin, missing);
            }
            Collection<String> outputs = List.of(topics.tokens(), topics.features(), topics.deadLetter());
            int limit = wantedRecordBytes;
            for (Map.Entry<String, Integer> entry : maxMessageBytes(admin, outputs).entrySet()) {
                if (entry.getValue() < wantedRecordBytes) {
                    LOG.warn("Topic {} has max.message.bytes={} < {} wanted; larger records will be dead-lettered",
                            entry.getKey(), entry.getValue(), wantedRecordBytes);
                }
                limit = Math.min(limit, entry.getValue());
            }
            return limit;
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not provision topics on " + kafka.bootstrapServers() + ": " + e.getCause(), e.getCause());
        }
    }

    private static void create(Admin admin, List<NewTopic> topics) throws InterruptedException, ExecutionException {
        if (topics.isEmpty()) {
            return;
        }
        for (var entry : admin.createTopics(topics).values().entrySet()) {
            try {
                entry.getValue().get();
                LOG.info("Created topic {}", entry.getKey());
            } catch (ExecutionException e) {
                // Another job instance created it between our listing and our request: that is the state we want.
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    private static Map<String, Integer> maxMessageBytes(Admin admin, Collection<String> topics)
            throws InterruptedException, ExecutionException {
        List<ConfigResource> resources = topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
        Map<String, Integer> out = new HashMap<>();
        configs.forEach((resource, config) -> out.put(
                resource.name(), Integer.parseInt(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value())));
        return out;
    }
}
