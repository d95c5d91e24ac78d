package io.vqrae.pipeline.corpus.format.internal;

import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.util.Collector;

/**
 * Files of one record kind (Avro or Parquet part files) written by Flink's exactly-once {@link FileSink}: a part
 * file becomes visible (loses its leading dot) when the checkpoint that covers it completes, and a restored job
 * discards what it had written since.
 */
public final class RecordFiles {
    private RecordFiles() {}

    /**
     * Writes the {@code kind} records of {@code samples} into {@code folder} (its name names the operators).
     *
     * @param writer the part files' format
     * @param suffix the part files' extension
     */
    public static void write(
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
