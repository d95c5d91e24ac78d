package io.vqrae.pipeline.job;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.decode.DecodeFunction;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordEncoder;
import io.vqrae.operators.tokenize.BatchingTokenizerOperator;
import io.vqrae.pipeline.config.JobConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The stages every job shares, whatever its source and sink: decode + preprocess, the batching tokenizer,
 * and the encoder that turns results and rejections into output records. The streaming job
 * ({@link TokenizeJob}) and the corpus job put them between Kafka or files.
 */
public final class ImageStages {
    private ImageStages() {}

    /**
     * Exactly-once checkpoints (they commit the sinks' transactions or files) and no Kryo: every element
     * type must have a Flink serializer, so a type change that would fall back to generic serialization
     * fails fast.
     */
    public static void configure(StreamExecutionEnvironment env, JobConfig config) {
        env.enableCheckpointing(config.checkpoint().interval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        env.configure(conf);
    }

    /**
     * Decode, tokenize and encode {@code images}: every input becomes one {@link EncodedSample}, its token and
     * feature records or one dead letter.
     */
    public static DataStream<EncodedSample> process(JobPlan plan, DataStream<InputImage> images) {
        JobConfig config = plan.config();
        SingleOutputStreamOperator<PreprocessedImage> decoded = images
                .process(new DecodeFunction(plan.decode()))
                .name("decode")
                .uid("decode");
        // Unset, decode takes the environment's default parallelism: what the cluster was sized for,
        // unlike anything this client JVM could measure.
        if (config.parallelism().decode() > 0) {
            decoded.setParallelism(config.parallelism().decode());
        }

        SingleOutputStreamOperator<TokenizedImage> tokenized = decoded
                .transform("tokenize", TypeInformation.of(TokenizedImage.class), new BatchingTokenizerOperator(plan.tokenizer()))
                .uid("tokenize")
                .setParallelism(config.parallelism().tokenizer());

        DataStream<Rejection> rejected = decoded.getSideOutput(DecodeFunction.REJECTED)
                .union(tokenized.getSideOutput(BatchingTokenizerOperator.REJECTED));
        return tokenized.connect(rejected)
                .process(new RecordEncoder(plan.encoder()))
                .returns(EncodedSample.class)
                .name("encode")
                .uid("encode")
                .setParallelism(config.parallelism().tokenizer());
    }
}
