package io.vqrae.pipeline.corpus.format.parquet;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.corpus.format.CorpusFormat;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.avro.AvroFormat;
import io.vqrae.pipeline.corpus.format.internal.RecordFiles;
import java.io.IOException;
import java.util.function.Consumer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * {@code parquet}: TokenRecord ({@code tokens/}) and FeatureRecord ({@code features/}) as Parquet files (ZSTD),
 * for Spark, DuckDB and {@code datasets}; duplicates as Avro DuplicateRecord files, as in {@link AvroFormat}.
 */
public final class ParquetFormat implements CorpusFormat {
    @Override
    public String name() {
        return "parquet";
    }

    @Override
    public void writeTokenized(DataStream<EncodedSample> samples, Path output, JobConfig.Corpus corpus, int parallelism) {
        RecordFiles.write(samples, RecordKind.TOKENS, new Path(output, OutputFolders.TOKENS),
                ParquetRecordWriters.forKind(RecordKind.TOKENS), ".parquet", corpus, parallelism);
        RecordFiles.write(samples, RecordKind.FEATURES, new Path(output, OutputFolders.FEATURES),
                ParquetRecordWriters.forKind(RecordKind.FEATURES), ".parquet", corpus, parallelism);
    }

    @Override
    public void writeDuplicates(DataStream<EncodedSample> duplicates, Path output, JobConfig.Corpus corpus, int parallelism) {
        AvroFormat.writeDuplicateRecords(duplicates, output, corpus, parallelism);
    }

    @Override
    public void read(Path output, Consumer<CorpusSample> action) throws IOException {
        throw new IOException(output + " holds Parquet output, which this reader does not read: use Spark, DuckDB, pandas or"
                + " parquet-avro (its dead letters and duplicates are Avro and read here)");
    }
}
