package io.vqrae.pipeline.job;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.decode.DecodeFunction;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordEncoder;
import io.vqrae.operators.tokenize.BatchingTokenizerOperator;
import io.vqrae.operators.tokenize.GpuAssignment;
import io.vqrae.pipeline.config.JobConfig;
import java.math.BigDecimal;
import java.util.Optional;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.resources.CPUResource;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraphGenerator;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;

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
     * fails fast. Where the tokenizer takes its GPUs from Flink, the slot-sharing groups of {@link #gpuSlots}.
     */
    public static void configure(StreamExecutionEnvironment env, JobConfig config) {
        env.enableCheckpointing(config.checkpoint().interval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        env.configure(conf);
        gpuSlots(env.getConfiguration(), config).ifPresent(slots -> {
            env.registerSlotSharingGroup(slots.others());
            env.registerSlotSharingGroup(slots.tokenizer());
        });
    }

    /** The slot-sharing group of the tokenizer and the stages at its parallelism, when GPUs come from Flink. */
    public static final String TOKENIZER_GROUP = "tokenizer";

    /**
     * The two slot-sharing groups of a job whose tokenizer takes its GPU from Flink's external resource: the
     * tokenizer (with the encode stage and the sink after it) in slots that each ask for one {@code gpu}, so Flink
     * never puts more tokenizer subtasks on a TaskManager than it has GPUs; everything else (source, decode) in the
     * default group, in slots that ask for no GPU. Without this, slot sharing puts a tokenizer subtask in whichever
     * slot its decode subtask got, and two may land on one TaskManager and share its GPU ({@code GpuAssignment}
     * logs it).
     *
     * <p>Both groups ask for explicit resources, split so that a TaskManager of n slots ({@code
     * taskmanager.numberOfTaskSlots}) and g GPUs takes g tokenizer slots and n - g others in whatever order Flink
     * places them:
     * <ul>
     *   <li>GPUs: a tokenizer slot asks one, the others none.
     *   <li>CPU: the other slots share the TaskManager's cores but {@value #GPU_SLOT_CPU} per GPU, so n - g of them fill
     *       it and one more does not fit; a tokenizer slot asks {@value #GPU_SLOT_CPU}. Flink limits no slot's CPU use:
     *       this is how slots are counted, so the cores must be the ones Flink derives for the TaskManager (set
     *       {@code taskmanager.cpu.cores} where a resource manager would otherwise pick another number).
     *   <li>Task heap, task off-heap and managed memory: 1/n of the TaskManager's each.
     * </ul>
     * A slot of unknown size instead would take Flink's default slot profile, which holds a share of the GPUs as well
     * and leaves no whole GPU for a tokenizer slot. The TaskManager's sizes are {@code TaskExecutorProcessUtils}'s
     * from the same configuration, as Flink derives them for its TaskManagers.
     *
     * @param cluster the configuration the job is submitted with (in application mode the cluster's, with the
     *     TaskManagers' memory and external resources)
     * @return empty unless {@code model.provider: cuda} without {@code model.device-ids} and the configuration
     *     gives TaskManagers a {@code gpu} external resource: local runs and CPU jobs keep Flink's default slots
     */
    public static Optional<GpuSlots> gpuSlots(ReadableConfig cluster, JobConfig config) {
        long gpus = cluster.get(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST).contains(GpuAssignment.RESOURCE)
                ? cluster.getOptional(gpuAmount()).orElse(0L) : 0;
        if (!config.model().gpusFromFlink() || gpus <= 0) {
            return Optional.empty();
        }
        int slots = cluster.get(TaskManagerOptions.NUM_TASK_SLOTS);
        if (slots <= gpus) {
            throw new IllegalConfigurationException(TaskManagerOptions.NUM_TASK_SLOTS.key() + " (" + slots + ") must be more than "
                    + gpuAmount().key() + " (" + gpus + "): a slot for each GPU's tokenizer and at least one for the other stages");
        }
        TaskExecutorProcessSpec taskManager = TaskExecutorProcessUtils.processSpecFromConfig(Configuration.fromMap(cluster.toMap()));
        BigDecimal cores = taskManager.getCpuCores().getValue().subtract(BigDecimal.valueOf(GPU_SLOT_CPU * gpus));
        SlotSharingGroup others = SlotSharingGroup.newBuilder(StreamGraphGenerator.DEFAULT_SLOT_SHARING_GROUP)
                .setCpuCores(new CPUResource(cores.doubleValue()).divide((int) (slots - gpus)).getValue().doubleValue())
                .setTaskHeapMemory(taskManager.getTaskHeapSize().divide(slots))
                .setTaskOffHeapMemory(taskManager.getTaskOffHeapSize().divide(slots))
                .setManagedMemory(taskManager.getManagedMemorySize().divide(slots))
                .build();
        SlotSharingGroup tokenizer = SlotSharingGroup.newBuilder(TOKENIZER_GROUP)
                .setCpuCores(GPU_SLOT_CPU)
                .setTaskHeapMemory(others.getTaskHeapMemory().orElseThrow())
                .setTaskOffHeapMemory(others.getTaskOffHeapMemory().orElseThrow())
                .setManagedMemory(others.getManagedMemory().orElseThrow())
                .setExternalResource(GpuAssignment.RESOURCE, 1)
                .build();
        return Optional.of(new GpuSlots(others, tokenizer));
    }

    /** The CPU a tokenizer slot counts: a token, since Flink wants a positive amount (see {@link #gpuSlots}). */
    static final double GPU_SLOT_CPU = 0.01;

    /** {@code external-resource.gpu.amount}: GPUs per TaskManager. */
    private static ConfigOption<Long> gpuAmount() {
        return ConfigOptions.key(ExternalResourceOptions.getAmountConfigOptionForResource(GpuAssignment.RESOURCE)).longType().noDefaultValue();
    }

    /**
     * Slot-sharing groups with resources.
     *
     * @param others the default group (source, decode): a TaskManager's share of a slot, no GPU
     * @param tokenizer the tokenizer, encode and sink: the same share and one GPU
     */
    public record GpuSlots(SlotSharingGroup others, SlotSharingGroup tokenizer) {}

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
        SingleOutputStreamOperator<EncodedSample> encoded = tokenized.connect(rejected)
                .process(new RecordEncoder(plan.encoder()))
                .returns(EncodedSample.class)
                .name("encode")
                .uid("encode")
                .setParallelism(config.parallelism().tokenizer());
        // The sink after encode inherits its group.
        if (gpuSlots(images.getExecutionEnvironment().getConfiguration(), config).isPresent()) {
            tokenized.slotSharingGroup(TOKENIZER_GROUP);
            encoded.slotSharingGroup(TOKENIZER_GROUP);
        }
        return encoded;
    }
}
