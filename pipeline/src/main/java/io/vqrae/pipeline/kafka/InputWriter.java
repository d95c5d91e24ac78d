package io.vqrae.pipeline.kafka;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.schemas.ImageRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Writes images to the input topic as {@code ImageRecord}s keyed by id (the demo's and tests' loader). */
public final class InputWriter implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    /** The first failure of an asynchronous send. */
    private final AtomicReference<Exception> failure = new AtomicReference<>();

    public InputWriter(JobConfig.Kafka kafka) {
        Properties props = KafkaClients.properties(kafka);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Integer.MAX_VALUE));
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = kafka.topics().input();
    }

    /** Sends one image as an {@code ImageRecord} and waits for the broker's acknowledgement; {@code sourceUri} may be null. */
    public void send(String id, byte[] image, String sourceUri) {
        try {
            producer.send(record(id, image, sourceUri)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while writing to " + topic, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not write to " + topic + ": " + e.getCause(), e.getCause());
        }
    }

    /**
     * Sends one image without waiting (many in flight: how a loader keeps up with the job); a failed send is
     * thrown by a later call or by {@link #close()}.
     */
    public void sendAsync(String id, byte[] image, String sourceUri) {
        sendAsync(id, image, sourceUri, Map.of(), null);
    }

    /**
     * As {@link #sendAsync(String, byte[], String)}, with the image's metadata; {@code acknowledged} (may be
     * null) runs on the producer's thread once the broker has it.
     */
    public void sendAsync(String id, byte[] image, String sourceUri, Map<String, String> metadata, Runnable acknowledged) {
        throwFailedSend();
        producer.send(record(id, image, sourceUri, metadata), (written, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            } else if (acknowledged != null) {
                acknowledged.run();
            }
        });
    }

    private ProducerRecord<byte[], byte[]> record(String id, byte[] image, String sourceUri) {
        return record(id, image, sourceUri, Map.of());
    }

    private ProducerRecord<byte[], byte[]> record(String id, byte[] image, String sourceUri, Map<String, String> metadata) {
        ImageRecord record = ImageRecord.newBuilder()
                .setId(id)
                .setImage(ByteBuffer.wrap(image))
                .setSourceUri(sourceUri)
                .setMetadata(Map.copyOf(metadata))
                .build();
        try {
            ByteBuffer encoded = record.toByteBuffer();
            byte[] value = new byte[encoded.remaining()];
            encoded.get(value);
            return new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), value);
        } catch (IOException e) {
            throw new UncheckedIOException("Encoding to memory cannot fail", e);
        }
    }

    private void throwFailedSend() {
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("Could not write to " + topic + ": " + e, e);
        }
    }

    /** Waits for every image sent, then closes the producer; throws if one could not be written. */
    @Override
    public void close() {
        producer.close();
        throwFailedSend();
    }
}
