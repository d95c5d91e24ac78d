package io.vqrae.pipeline.corpus.format.avro;

import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.corpus.format.CorpusFormat;
import io.vqrae.pipeline.corpus.format.OutputFolders;
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
 * {@code avro}: Avro object container files of TokenRecord ({@code tokens/}), FeatureRecord ({@code features/})
 * and DuplicateRecord ({@code duplicates/}), uncompressed (python3-avro reads neither snappy nor zstd).
 */
public final class AvroFormat implements CorpusFormat {
    @Override
    public String name() {
        return "avro";
    }

    @Override
    public void writeTokenized(DataStream<EncodedSample> samples, Path output, JobConfig.Corpus corpus, int parallelism) {
        RecordFiles.write(samples, RecordKind.TOKENS, new Path(output, OutputFolders.TOKENS),
                AvroContainerWriter.factory(TokenRecord.getClassSchema()), ".avro", corpus, parallelism);
        RecordFiles.write(samples, RecordKind.FEATURES, new Path(output, OutputFolders.FEATURES),
                AvroContainerWriter.factory(FeatureRecord.getClassSchema()), ".avro", corpus, parallelism);
    }

    @Override
    public void writeDuplicates(DataStream<EncodedSample> duplicates, Path output, JobConfig.Corpus corpus, int parallelism) {
        writeDuplicateRecords(duplicates, output, corpus, parallelism);
    }

    /** DuplicateRecord files in {@code duplicates/}: how the Avro and Parquet formats write duplicates. */
    public static void writeDuplicateRecords(DataStream<EncodedSample> duplicates, Path output, JobConfig.Corpus corpus, int parallelism) {
        RecordFiles.write(duplicates, RecordKind.DUPLICATE, new Path(output, OutputFolders.DUPLICATES),
                AvroContainerWriter.factory(DuplicateRecord.getClassSchema()), ".avro", corpus, parallelism);
    }

    /** Token records joined with their feature records (by id, in memory), then the duplicates. */
    @Override
    public void read(Path output, Consumer<CorpusSample> action) throws IOException {
        Map<String, FeatureRecord> features = new HashMap<>();
        AvroContainerFiles.read(output, OutputFolders.FEATURES, FeatureRecord.class, record -> features.put(record.getId(), record));
        AvroContainerFiles.read(output, OutputFolders.TOKENS, TokenRecord.class,
                tokens -> action.accept(CorpusSample.of(tokens, features.get(tokens.getId()))));
        AvroContainerFiles.read(output, OutputFolders.DUPLICATES, DuplicateRecord.class, duplicate -> action.accept(CorpusSample.of(duplicate)));
    }
}
