package io.vqrae.operators.data;

/**
 * Where an input came from in its source, carried to every output so a record can be traced back (and a
 * dead-lettered image re-read). All three are null for sources without positions, such as files.
 *
 * @param topic topic (or other named stream) the input was read from
 * @param partition partition within the topic
 * @param offset offset within the partition
 */
public record Origin(String topic, Integer partition, Long offset) {

    public static Origin of(String topic, int partition, long offset) {
        return new Origin(topic, partition, offset);
    }
}
