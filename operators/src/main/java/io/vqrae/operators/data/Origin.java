package io.vqrae.operators.data;

/**
 * Where an input came from in its source, carried to every output so a record can be traced back (and a
 * dead-lettered image re-read): a Kafka position, or a file; and what came with it there.
 *
 * @param topic topic the input was read from; null for file sources
 * @param partition partition within the topic; null for file sources
 * @param offset offset within the partition; null for file sources
 * @param file the file the input was read from; null for Kafka sources
 * @param metadata what came with the input (an ImageRecord's metadata and source URI, a file's sidecars), copied
 *     to its output records; {@link InputMetadata#NONE} when nothing did (null is taken as that)
 */
public record Origin(String topic, Integer partition, Long offset, SourceFile file, InputMetadata metadata) {

    /** An input of no recorded position, such as a file given on the command line. */
    public static final Origin NONE = new Origin(null, null, null, null);

    public Origin {
        // Null when restored from a checkpoint taken before Origin carried metadata (Flink fills a field it did not
        // write with null): that input came with none the outputs kept.
        if (metadata == null) {
            metadata = InputMetadata.NONE;
        }
    }

    /** A position with the metadata of its file, if any. */
    public Origin(String topic, Integer partition, Long offset, SourceFile file) {
        this(topic, partition, offset, file, file == null ? InputMetadata.NONE : InputMetadata.of(file));
    }

    public static Origin of(String topic, int partition, long offset) {
        return new Origin(topic, partition, offset, null);
    }

    /** A Kafka position and what its record carried besides the image. */
    public static Origin of(String topic, int partition, long offset, InputMetadata metadata) {
        return new Origin(topic, partition, offset, null, metadata);
    }

    public static Origin of(SourceFile file) {
        return new Origin(null, null, null, file);
    }
}
