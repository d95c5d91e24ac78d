package io.vqrae.pipeline.kafka;

/** The Kafka cluster named by {@code kafka.bootstrap-servers} did not answer in time. */
public final class KafkaUnreachableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KafkaUnreachableException(String bootstrapServers, String detail, Throwable cause) {
        super("cannot reach Kafka at " + bootstrapServers + " (" + detail + ")", cause);
    }
}
