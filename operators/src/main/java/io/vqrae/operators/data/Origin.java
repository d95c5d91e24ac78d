package io.vqrae.operators.data;

/**
 * Where an input came from in its source, carried to every output so a record can be traced back (and a
 * dead-lettered image re-read): a Kafka position, or a file.
 *
 * @param topic topic the input was read from; null for file sources
 * @param partition partition within the topic; null for file sources
 * @param offset offset within the partition; null for file sources
 * @param file the file the input was read from; null for Kafka sources
 */
public record Origin(String topic, Integer partition, Long offset, SourceFile file) {

    /** An input of no recorded position, such as a file given on the command line. */
    public static final Origin NONE = new Origin(null, null, null, null);

    public static Origin of(String topic, int partition, long offset) {
        return new Origin(topic, partition, offset, null);
    }

    public static Origin of(SourceFile file) {
        return new Origin(null, null, null, file);
    }
}
