package io.vqrae.pipeline.corpus.sink;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusFormat;
import io.vqrae.pipeline.corpus.format.CorpusFormats;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.avro.AvroContainerWriter;
import io.vqrae.pipeline.corpus.format.internal.RecordFiles;
import io.vqrae.pipeline.corpus.sink.internal.OutputCounter;
import io.vqrae.schemas.DeadLetterRecord;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * The file outputs of a corpus job: the configured format's files ({@link CorpusFormat}) and, in every format,
 * the dead letters as Avro DeadLetterRecord files in {@code dead-letters/}. Everything is counted on its way
 * ({@link OutputCounter}, for {@code _SUCCESS.json}) and written exactly once, committed with the checkpoint that
 * covers it. Each input's records arrive as one {@link EncodedSample}, so a sample is never split.
 */
public final class CorpusSinks {
    private CorpusSinks() {}

    /**
     * Counts the samples of tokenized and dead-lettered inputs and writes them under {@code output}.
     *
     * @param parallelism the sinks' parallelism: that of the stage producing {@code samples}, so the counter
     *     and sinks chain to it and records never cross the network again
     */
    public static void attachOutputs(DataStream<EncodedSample> samples, String output, JobConfig.Corpus corpus, int parallelism) {
        DataStream<EncodedSample> counted = count(samples, "count-outputs", parallelism);
        Path root = new Path(output);
        CorpusFormats.of(corpus.format()).writeTokenized(counted, root, corpus, parallelism);
        RecordFiles.write(counted, RecordKind.DEAD_LETTER, new Path(root, OutputFolders.DEAD_LETTERS),
                AvroContainerWriter.factory(DeadLetterRecord.getClassSchema()), ".avro", corpus, parallelism);
    }

    /** Counts the samples of duplicates and writes them under {@code output} as the format writes duplicates. */
    public static void attachDuplicates(DataStream<EncodedSample> duplicates, String output, JobConfig.Corpus corpus, int parallelism) {
        CorpusFormats.of(corpus.format()).writeDuplicates(count(duplicates, "count-duplicates", parallelism), new Path(output), corpus, parallelism);
    }

    private static DataStream<EncodedSample> count(DataStream<EncodedSample> samples, String uid, int parallelism) {
        return samples.map(new OutputCounter()).name(uid).uid(uid).setParallelism(parallelism);
    }
}
