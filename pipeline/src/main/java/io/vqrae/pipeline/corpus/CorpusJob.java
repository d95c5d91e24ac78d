package io.vqrae.pipeline.corpus;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.dedup.Deduplicate;
import io.vqrae.operators.dedup.DigestFunction;
import io.vqrae.operators.dedup.Duplicate;
import io.vqrae.operators.encode.DuplicateEncoder;
import io.vqrae.operators.encode.DuplicatePairing;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.sink.CorpusSinks;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.job.ImageStages;
import io.vqrae.pipeline.job.JobPlan;
import java.util.Objects;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The corpus job: image files and WebDataset shards -> [deduplicate] -> decode, tokenize, encode (the
 * streaming job's own stages) -> exactly-once file outputs. Bounded: it ends when every input file is read
 * and its outputs are committed. Splits are whole files, so it scales with source parallelism, and a job
 * restored from a checkpoint or savepoint reads neither finished files nor the finished part of a shard again.
 *
 * <p>With deduplication, duplicates take a branch of their own to their own outputs: the tokenized inputs'
 * outputs stay chained to the encoder (a feature record never crosses the network), and no union
 * interleaves the two. For WebDataset output each duplicate is paired with the tokens of its image
 * ({@link DuplicatePairing}), so its own caption and metadata reach a trainer with tokens.
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
        write(images(env));
    }

    /** The inputs, read from files. */
    public DataStream<InputImage> images(StreamExecutionEnvironment env) {
        JobConfig config = plan.config();
        return env.fromSource(inputs.source(config.limits()), WatermarkStrategy.noWatermarks(), "corpus-files")
                .uid("corpus-source")
                .setParallelism(config.parallelism().source());
    }

    /**
     * Deduplicates {@code images} (when {@code corpus.dedup} is on), then decodes, tokenizes and encodes them
     * into the outputs.
     */
    public void write(DataStream<InputImage> images) {
        JobConfig config = plan.config();
        int tokenizers = config.parallelism().tokenizer();
        if (!config.corpus().dedup()) {
            CorpusSinks.attachOutputs(ImageStages.process(plan, images), output, config.corpus(), tokenizers);
            return;
        }
        // Keyed by digest before decode, where an image is smallest; the keyBy takes the place of the
        // rebalance between source and decode, and deduplication chains with decode.
        SingleOutputStreamOperator<InputImage> unique = withDecodeParallelism(images
                .map(new DigestFunction()).name("digest").uid("digest").setParallelism(config.parallelism().source())
                .keyBy(Deduplicate::key)
                .process(new Deduplicate(config.corpus().dedupTtl(), plan.metrics())).name("deduplicate").uid("deduplicate"));
        DataStream<EncodedSample> outputs = ImageStages.process(plan, unique);
        CorpusSinks.attachOutputs(outputs, output, config.corpus(), tokenizers);

        DataStream<Duplicate> duplicates = unique.getSideOutput(Deduplicate.DUPLICATES);
        if (config.corpus().format() == JobConfig.OutputFormat.WEBDATASET) {
            DataStream<EncodedSample> paired = outputs
                    .flatMap(DuplicatePairing.tokenRecords()).returns(TypeInformation.of(DuplicatePairing.ImageTokens.class))
                    .name("token-records").uid("token-records").setParallelism(tokenizers)
                    .keyBy(DuplicatePairing.ImageTokens::imageSha256)
                    .connect(duplicates.keyBy(Duplicate::sha256))
                    .process(new DuplicatePairing(config.corpus().dedupTtl())).returns(EncodedSample.class)
                    .name("pair-duplicates").uid("pair-duplicates").setParallelism(tokenizers);
            CorpusSinks.attachDuplicates(paired, output, config.corpus(), tokenizers);
        } else {
            SingleOutputStreamOperator<EncodedSample> encoded = withDecodeParallelism(
                    duplicates.map(new DuplicateEncoder()).name("encode-duplicates").uid("encode-duplicates"));
            CorpusSinks.attachDuplicates(encoded, output, config.corpus(), encoded.getParallelism());
        }
    }

    /** Decode's parallelism (as {@link ImageStages} sets it), so what runs beside decode chains with it. */
    private <T> SingleOutputStreamOperator<T> withDecodeParallelism(SingleOutputStreamOperator<T> operator) {
        int decode = plan.config().parallelism().decode();
        return decode > 0 ? operator.setParallelism(decode) : operator;
    }
}
