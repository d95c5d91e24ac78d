package io.vqrae.pipeline.corpus.format;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import java.io.IOException;
import java.util.function.Consumer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * A layout of a corpus job's tokens and features in files: how the job writes them and how a reader reads
 * them back, in one place ({@link CorpusFormats} names them). Dead letters are Avro files in every format
 * (under {@link OutputFolders#DEAD_LETTERS}), written and read beside the format's own files.
 */
public interface CorpusFormat {
    /** The name in the job's configuration ({@code corpus.format}) and in {@code _SUCCESS.json}. */
    String name();

    /**
     * Writes the samples of tokenized inputs (their token and feature records) under {@code output}; other
     * kinds in {@code samples} are not this method's.
     *
     * @param parallelism that of the stage producing {@code samples}, so the sinks chain to it
     */
    void writeTokenized(DataStream<EncodedSample> samples, Path output, JobConfig.Corpus corpus, int parallelism);

    /** Writes the samples of duplicates under {@code output}. */
    void writeDuplicates(DataStream<EncodedSample> duplicates, Path output, JobConfig.Corpus corpus, int parallelism);

    /** Finishes the output of a run that completed (WebDataset writes its shard index); most formats need nothing. */
    default void complete(Path output, String runName) throws IOException {}

    /**
     * Every sample of an output folder written in this format, tokenized ones and duplicates, in file order.
     *
     * @throws IOException if a file cannot be read
     */
    void read(Path output, Consumer<CorpusSample> action) throws IOException;
}
