package io.vqrae.pipeline.corpus.sink;

import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.parquet.ParquetRecordWriters;
import io.vqrae.pipeline.corpus.sink.internal.AvroContainerWriter;
import io.vqrae.pipeline.corpus.sink.internal.OutputCounter;
import io.vqrae.pipeline.corpus.sink.internal.SampleRollingPolicy;
import io.vqrae.pipeline.corpus.sink.internal.WebDatasetWriter;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.util.EnumSet;
import java.util.Set;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;

/**
 * The file outputs of a corpus job, each an exactly-once Flink {@link FileSink}: part files become visible
 * (lose their leading dot) only when the checkpoint that covers them completes, and a restored job
 * discards what it had written since. Under the output folder:
 *
 * <ul>
 *   <li>{@code webdataset/*.tar} (format webdataset): per image {@code KEY.json}, {@code KEY.tokens.npy},
 *       {@code KEY.features.npy}; duplicates as a {@code KEY.json} naming the first id;
 *   <li>{@code tokens/}, {@code features/} (formats avro, parquet): TokenRecord and FeatureRecord files;
 *   <li>{@code duplicates/*.avro} (formats avro, parquet): DuplicateRecord files;
 *   <li>{@code dead-letters/*.avro} (every format): DeadLetterRecord files.
 * </ul>
 */
public final class CorpusSinks {
    /** The folder names under the output folder. */
    public static final String WEBDATASET = "webdataset";
    public static final String TOKENS = "tokens";
    public static final String FEATURES = "features";
    public static final String DUPLICATES = "duplicates";
    public static final String DEAD_LETTERS = "dead-letters";

    private CorpusSinks() {}

    /**
     * Counts {@code records} ({@link OutputCounter}) and writes them under {@code output}.
     *
     * @param parallelism the sinks' parallelism: that of the stage producing {@code records}, so the
     *     counter and sinks chain to it and records never cross the network again
     */
    public static void attach(DataStream<EncodedRecord> records, String output, JobConfig.Corpus corpus, int parallelism) {
        DataStream<EncodedRecord> counted = records.map(new OutputCounter())
                .name("count-outputs").uid("count-outputs").setParallelism(parallelism);
        Path root = new Path(output);
        switch (corpus.format()) {
            case WEBDATASET -> sink(counted, EnumSet.of(RecordKind.TOKENS, RecordKind.FEATURES, RecordKind.DUPLICATE),
                    new Path(root, WEBDATASET), WebDatasetWriter.factory(), ".tar", corpus, parallelism);
            case AVRO -> {
                sink(counted, Set.of(RecordKind.TOKENS), new Path(root, TOKENS),
                        AvroContainerWriter.factory(TokenRecord.getClassSchema()), ".avro", corpus, parallelism);
                sink(counted, Set.of(RecordKind.FEATURES), new Path(root, FEATURES),
                        AvroContainerWriter.factory(FeatureRecord.getClassSchema()), ".avro", corpus, parallelism);
            }
            case PARQUET -> {
                sink(counted, Set.of(RecordKind.TOKENS), new Path(root, TOKENS),
                        ParquetRecordWriters.forKind(RecordKind.TOKENS), ".parquet", corpus, parallelism);
                sink(counted, Set.of(RecordKind.FEATURES), new Path(root, FEATURES),
                        ParquetRecordWriters.forKind(RecordKind.FEATURES), ".parquet", corpus, parallelism);
            }
        }
        if (corpus.format() != JobConfig.OutputFormat.WEBDATASET) {
            sink(counted, Set.of(RecordKind.DUPLICATE), new Path(root, DUPLICATES),
                    AvroContainerWriter.factory(DuplicateRecord.getClassSchema()), ".avro", corpus, parallelism);
        }
        sink(counted, Set.of(RecordKind.DEAD_LETTER), new Path(root, DEAD_LETTERS),
                AvroContainerWriter.factory(DeadLetterRecord.getClassSchema()), ".avro", corpus, parallelism);
    }

    private static void sink(
            DataStream<EncodedRecord> records, Set<RecordKind> kinds, Path folder, BulkWriter.Factory<EncodedRecord> writer,
            String suffix, JobConfig.Corpus corpus, int parallelism) {
        String name = folder.getName();
        EnumSet<RecordKind> wanted = EnumSet.copyOf(kinds);
        FileSink<EncodedRecord> sink = FileSink.forBulkFormat(folder, writer)
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withRollingPolicy(new SampleRollingPolicy(corpus.shardBytes()))
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(suffix).build())
                .build();
        records.filter(record -> wanted.contains(record.kind()))
                .name("select-" + name).uid("select-" + name).setParallelism(parallelism)
                .sinkTo(sink).name(name + "-files").uid(name + "-files").setParallelism(parallelism);
    }
}
