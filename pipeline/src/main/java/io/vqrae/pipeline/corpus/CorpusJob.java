package io.vqrae.pipeline.corpus;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.dedup.Deduplicate;
import io.vqrae.operators.dedup.DigestFunction;
import io.vqrae.operators.encode.DuplicateEncoder;
import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.sink.CorpusSinks;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.job.ImageStages;
import io.vqrae.pipeline.job.JobPlan;
import java.util.Objects;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The corpus job: image files and WebDataset shards -> [deduplicate] -> decode, tokenize, encode (the
 * streaming job's own stages) -> exactly-once file outputs. Bounded: it ends when every input file is read
 * and its outputs are committed. Splits are whole files, so it scales with source parallelism, and a job
 * restored from a checkpoint or savepoint reads neither finished files nor the finished part of a shard again.
 */
public final class CorpusJob {
    private final JobPlan plan;
    private final CorpusInputs inputs;
    private final String output;

    /**
     * @param plan the resolved job ({@link JobPlan#forFiles})
     * @param inputs the files, folders and shards to read
     * @param output the output folder, any Flink filesystem URI
     */
    public CorpusJob(JobPlan plan, CorpusInputs inputs, String output) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.inputs = Objects.requireNonNull(inputs, "inputs");
        this.output = Objects.requireNonNull(output, "output");
    }

    /** Wires the whole job into {@code env}. */
    public void attach(StreamExecutionEnvironment env) {
        ImageStages.configure(env, plan.config());
        DataStream<EncodedRecord> records = process(images(env));
        CorpusSinks.attach(records, output, plan.config().corpus(), plan.config().parallelism().tokenizer());
    }

    /** The inputs, read from files. */
    public DataStream<InputImage> images(StreamExecutionEnvironment env) {
        JobConfig config = plan.config();
        return env.fromSource(inputs.source(config.limits().maxImageBytes()), WatermarkStrategy.noWatermarks(), "corpus-files")
                .uid("corpus-source")
                .setParallelism(config.parallelism().source());
    }

    /** Deduplicates (when {@code corpus.dedup} is on), then decodes, tokenizes and encodes {@code images}. */
    public DataStream<EncodedRecord> process(DataStream<InputImage> images) {
        JobConfig config = plan.config();
        if (!config.corpus().dedup()) {
            return ImageStages.process(plan, images);
        }
        // Keyed by digest before decode, where an image is smallest; the keyBy takes the place of the
        // rebalance between source and decode, and deduplication chains with decode.
        SingleOutputStreamOperator<InputImage> unique = withDecodeParallelism(images
                .map(new DigestFunction()).name("digest").uid("digest").setParallelism(config.parallelism().source())
                .keyBy(Deduplicate::key)
                .process(new Deduplicate(config.corpus().dedupTtl())).name("deduplicate").uid("deduplicate"));
        DataStream<EncodedRecord> duplicates = withDecodeParallelism(unique.getSideOutput(Deduplicate.DUPLICATES)
                .map(new DuplicateEncoder()).name("encode-duplicates").uid("encode-duplicates"));
        return ImageStages.process(plan, unique).union(duplicates);
    }

    /** Decode's parallelism (as {@link ImageStages} sets it), so what runs beside decode chains with it. */
    private <T> SingleOutputStreamOperator<T> withDecodeParallelism(SingleOutputStreamOperator<T> operator) {
        int decode = plan.config().parallelism().decode();
        return decode > 0 ? operator.setParallelism(decode) : operator;
    }
}
