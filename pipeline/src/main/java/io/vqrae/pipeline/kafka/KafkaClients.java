package io.vqrae.pipeline.kafka;

import io.vqrae.pipeline.config.JobConfig;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;

/** The settings every Kafka client of the job starts from. */
public final class KafkaClients {
    private KafkaClients() {}

    /**
     * The pass-through client properties (security protocol, SASL, SSL) plus the bootstrap servers; each
     * client adds its own settings on top.
     */
    public static Properties properties(JobConfig.Kafka kafka) {
        Properties props = new Properties();
        props.putAll(kafka.properties());
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        return props;
    }
}
