package io.vqrae.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.pipeline.config.JobConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The job's Kafka permissions as docs/pipeline.md ("Kafka ACLs") lists them, and the principal errors name. */
class JobPermissionsTest {

    @Test
    void required_defaultsAreTheNineAclsTheDocsList() {
        assertThat(JobPermissions.required(JobConfig.DEFAULTS.kafka())).extracting(JobPermissions.Permission::describe).containsExactly(
                "READ on topic vqrae.images (kafka.topics.input)",
                "WRITE on topic vqrae.tokens (kafka.topics.tokens)",
                "DESCRIBE_CONFIGS on topic vqrae.tokens (kafka.topics.tokens)",
                "WRITE on topic vqrae.features (kafka.topics.features)",
                "DESCRIBE_CONFIGS on topic vqrae.features (kafka.topics.features)",
                "WRITE on topic vqrae.dead-letter (kafka.topics.dead-letter)",
                "DESCRIBE_CONFIGS on topic vqrae.dead-letter (kafka.topics.dead-letter)",
                "READ on group vqrae-tokenizer (kafka.group-id)",
                "WRITE on transactional ids prefixed vqrae-tokenizer (kafka.transactional-id-prefix)");
    }

    @Test
    void identity_scramUserFromTheJaasConfigWithoutItsPassword() {
        JobConfig.Kafka kafka = JobConfig.fromMap(Map.of(
                "kafka.properties.security.protocol", "SASL_SSL",
                "kafka.properties.sasl.mechanism", "SCRAM-SHA-512",
                "kafka.properties.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3cret\";")).kafka();
        assertThat(KafkaClients.identity(kafka)).isEqualTo("User:alice (SASL_SSL, SCRAM-SHA-512)");
    }

    @Test
    void identity_plaintextIsAnonymous() {
        assertThat(KafkaClients.identity(JobConfig.DEFAULTS.kafka())).isEqualTo("User:ANONYMOUS (PLAINTEXT)");
    }
}
