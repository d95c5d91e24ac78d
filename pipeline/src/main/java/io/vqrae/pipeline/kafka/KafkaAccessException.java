package io.vqrae.pipeline.kafka;

import java.util.Collection;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.AuthenticationException;

/**
 * The Kafka cluster refused the job's client: it did not authenticate it, or its ACLs deny something the job
 * needs. The message is one line naming the client's principal and, for a denial, every missing
 * permission with its resource.
 */
public final class KafkaAccessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private KafkaAccessException(String message, Throwable cause) {
        super(message, cause);
    }

    static KafkaAccessException notAuthenticated(String bootstrapServers, String identity, AuthenticationException cause) {
        return new KafkaAccessException("Kafka at " + bootstrapServers + " did not authenticate " + identity + ": "
                + cause.getMessage(), cause);
    }

    static KafkaAccessException denied(String bootstrapServers, String identity, Collection<JobPermissions.Permission> missing) {
        return new KafkaAccessException("Kafka at " + bootstrapServers + " denies " + identity + " what the job needs: "
                + missing.stream().map(JobPermissions.Permission::describe).collect(Collectors.joining(", "))
                + ". docs/pipeline.md \"Kafka ACLs\" lists every grant.", null);
    }
}
