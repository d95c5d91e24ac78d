package io.vqrae.pipeline.corpus.format.parquet;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.corpus.format.CorpusFormat;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.avro.AvroContainerFiles;
import io.vqrae.pipeline.corpus.format.avro.AvroFormat;
import io.vqrae.pipeline.corpus.format.internal.RecordFiles;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * {@code parquet}: TokenRecord ({@code tokens/}) and FeatureRecord ({@code features/}) as Parquet files (ZSTD),
 * for Spark, DuckDB and {@code datasets}, read back on the JVM by {@link ParquetRecordFiles}; duplicates as Avro
 * DuplicateRecord files, as in {@link AvroFormat}.
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

    /** Token records joined with their feature records (by id, in memory), then the duplicates. */
    @Override
    public void read(Path output, Consumer<CorpusSample> action) throws IOException {
        Map<String, FeatureRecord> features = new HashMap<>();
        for (Path file : OutputFolders.committedFiles(output, OutputFolders.FEATURES, ".parquet")) {
            ParquetRecordFiles.read(file, FeatureRecord.class, record -> features.put(record.getId(), record));
        }
        for (Path file : OutputFolders.committedFiles(output, OutputFolders.TOKENS, ".parquet")) {
            ParquetRecordFiles.read(file, TokenRecord.class, tokens -> action.accept(CorpusSample.of(tokens, features.get(tokens.getId()))));
        }
        AvroContainerFiles.read(output, OutputFolders.DUPLICATES, DuplicateRecord.class, duplicate -> action.accept(CorpusSample.of(duplicate)));
    }
}
