package io.vqrae.pipeline.kafka;

import io.vqrae.pipeline.config.JobConfig;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;

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

    /**
     * Who the clients authenticate as, for error messages: {@code User:alice (SASL_SSL, SCRAM-SHA-512)}.
     * The user comes from the login module's {@code username} (PLAIN, SCRAM) or {@code principal} (GSSAPI)
     * option, read with Kafka's own JAAS parser; nothing else of the JAAS configuration is shown.
     */
    public static String identity(JobConfig.Kafka kafka) {
        Map<String, String> props = kafka.properties();
        String protocol = props.getOrDefault(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, CommonClientConfigs.DEFAULT_SECURITY_PROTOCOL)
                .toUpperCase(Locale.ROOT);
        if (!protocol.startsWith("SASL_")) {
            return protocol.equals("SSL") ? "the principal of the client certificate (SSL)" : "User:ANONYMOUS (" + protocol + ")";
        }
        String mechanism = props.getOrDefault(SaslConfigs.SASL_MECHANISM, SaslConfigs.DEFAULT_SASL_MECHANISM);
        String user = saslUser(props.get(SaslConfigs.SASL_JAAS_CONFIG));
        return (user == null ? "the user of the JAAS login" : "User:" + user) + " (" + protocol + ", " + mechanism + ")";
    }

    private static String saslUser(String jaasConfig) {
        if (jaasConfig == null) {
            return null;
        }
        try {
            List<AppConfigurationEntry> entries =
                    JaasContext.loadClientContext(Map.of(SaslConfigs.SASL_JAAS_CONFIG, new Password(jaasConfig))).configurationEntries();
            String user = JaasContext.configEntryOption(entries, "username", null);
            return user != null ? user : JaasContext.configEntryOption(entries, "principal", null);
        } catch (RuntimeException e) {
            // A JAAS configuration Kafka cannot parse fails the client itself, with Kafka's own message.
            return null;
        }
    }
}
