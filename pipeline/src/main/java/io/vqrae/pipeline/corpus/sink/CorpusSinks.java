package io.vqrae.pipeline.corpus.sink;

import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.parquet.ParquetRecordWriters;
import io.vqrae.pipeline.corpus.sink.internal.AvroContainerWriter;
import io.vqrae.pipeline.corpus.sink.internal.OutputCounter;
import io.vqrae.pipeline.corpus.sink.internal.SizeRollingPolicy;
import io.vqrae.pipeline.corpus.webdataset.WebDatasetSink;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.util.Collector;

/**
 * The file outputs of a corpus job. Under the output folder:
 *
 * <ul>
 *   <li>{@code webdataset/shard-*.tar} (format webdataset): per image {@code KEY.json}, {@code KEY.tokens.npy},
 *       {@code KEY.features.npy}, written by a {@link WebDatasetSink}; {@code webdataset/duplicates-*.tar} the
 *       duplicates, each with its own metadata and its image's tokens; {@code webdataset/shards.json} the index,
 *       written when the run completes;
 *   <li>{@code tokens/}, {@code features/} (formats avro, parquet): TokenRecord and FeatureRecord files;
 *   <li>{@code duplicates/*.avro} (formats avro, parquet): DuplicateRecord files;
 *   <li>{@code dead-letters/*.avro} (every format): DeadLetterRecord files.
 * </ul>
 *
 * <p>Everything is written exactly once: WebDataset shards by their own sink, the rest by Flink's
 * {@link FileSink}, whose part files become visible (lose their leading dot) when the checkpoint that covers
 * them completes. Each input's records arrive as one {@link EncodedSample}, so a sample is never split.
 */
public final class CorpusSinks {
    /** The folder names under the output folder. */
    public static final String WEBDATASET = "webdataset";
    public static final String TOKENS = "tokens";
    public static final String FEATURES = "features";
    public static final String DUPLICATES = "duplicates";
    public static final String DEAD_LETTERS = "dead-letters";

    /** Shard name prefixes in {@code webdataset/}. */
    public static final String SHARD_PREFIX = "shard";
    public static final String DUPLICATE_SHARD_PREFIX = "duplicates";

    private CorpusSinks() {}

    /**
     * Counts the samples of tokenized and dead-lettered inputs ({@link OutputCounter}) and writes them under
     * {@code output}.
     *
     * @param parallelism the sinks' parallelism: that of the stage producing {@code samples}, so the counter
     *     and sinks chain to it and records never cross the network again
     */
    public static void attachOutputs(DataStream<EncodedSample> samples, String output, JobConfig.Corpus corpus, int parallelism) {
        DataStream<EncodedSample> counted = count(samples, "count-outputs", parallelism);
        Path root = new Path(output);
        switch (corpus.format()) {
            case WEBDATASET -> shards(counted, RecordKind.TOKENS, new Path(root, WEBDATASET), SHARD_PREFIX, corpus, parallelism);
            case AVRO -> {
                files(counted, RecordKind.TOKENS, new Path(root, TOKENS), AvroContainerWriter.factory(TokenRecord.getClassSchema()), ".avro",
                        corpus, parallelism);
                files(counted, RecordKind.FEATURES, new Path(root, FEATURES), AvroContainerWriter.factory(FeatureRecord.getClassSchema()),
                        ".avro", corpus, parallelism);
            }
            case PARQUET -> {
                files(counted, RecordKind.TOKENS, new Path(root, TOKENS), ParquetRecordWriters.forKind(RecordKind.TOKENS), ".parquet",
                        corpus, parallelism);
                files(counted, RecordKind.FEATURES, new Path(root, FEATURES), ParquetRecordWriters.forKind(RecordKind.FEATURES), ".parquet",
                        corpus, parallelism);
            }
        }
        files(counted, RecordKind.DEAD_LETTER, new Path(root, DEAD_LETTERS), AvroContainerWriter.factory(DeadLetterRecord.getClassSchema()),
                ".avro", corpus, parallelism);
    }

    /**
     * Counts the samples of duplicates and writes them under {@code output}: as WebDataset samples of their own
     * (format webdataset), else as DuplicateRecord files.
     */
    public static void attachDuplicates(DataStream<EncodedSample> duplicates, String output, JobConfig.Corpus corpus, int parallelism) {
        DataStream<EncodedSample> counted = count(duplicates, "count-duplicates", parallelism);
        Path root = new Path(output);
        if (corpus.format() == JobConfig.OutputFormat.WEBDATASET) {
            shards(counted, RecordKind.DUPLICATE, new Path(root, WEBDATASET), DUPLICATE_SHARD_PREFIX, corpus, parallelism);
        } else {
            files(counted, RecordKind.DUPLICATE, new Path(root, DUPLICATES), AvroContainerWriter.factory(DuplicateRecord.getClassSchema()),
                    ".avro", corpus, parallelism);
        }
    }

    private static DataStream<EncodedSample> count(DataStream<EncodedSample> samples, String uid, int parallelism) {
        return samples.map(new OutputCounter()).name(uid).uid(uid).setParallelism(parallelism);
    }

    private static void shards(
            DataStream<EncodedSample> samples, RecordKind kind, Path folder, String prefix, JobConfig.Corpus corpus, int parallelism) {
        String name = prefix + "-shards";
        samples.filter(sample -> sample.kind() == kind)
                .name("select-" + name).uid("select-" + name).setParallelism(parallelism)
                .sinkTo(WebDatasetSink.builder(folder).prefix(prefix).samplesPerShard(corpus.samplesPerShard())
                        .maxShardBytes(corpus.shardBytes()).build())
                .name(name).uid(name).setParallelism(parallelism);
    }

    private static void files(
            DataStream<EncodedSample> samples, RecordKind kind, Path folder, BulkWriter.Factory<EncodedRecord> writer, String suffix,
            JobConfig.Corpus corpus, int parallelism) {
        String name = folder.getName();
        FileSink<EncodedRecord> sink = FileSink.forBulkFormat(folder, writer)
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(new SizeRollingPolicy(corpus.shardBytes()))
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(suffix).build())
                .build();
        samples.flatMap(new Select(kind)).returns(EncodedRecord.class)
                .name("select-" + name).uid("select-" + name).setParallelism(parallelism)
                .sinkTo(sink).name(name + "-files").uid(name + "-files").setParallelism(parallelism);
    }

    /** The record of one kind in each sample that has one (a token record's features are the FEATURES record). */
    private record Select(RecordKind kind) implements FlatMapFunction<EncodedSample, EncodedRecord> {
        @Override
        public void flatMap(EncodedSample sample, Collector<EncodedRecord> out) {
            for (EncodedRecord record : sample.records()) {
                if (record.kind() == kind) {
                    out.collect(record);
                }
            }
        }
    }
}
