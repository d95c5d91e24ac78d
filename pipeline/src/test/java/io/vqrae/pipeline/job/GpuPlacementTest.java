package io.vqrae.pipeline.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.tokenize.GpuAssignment;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.testing.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

/**
 * Where Flink puts tokenizer subtasks when GPUs come from its external resource, and which GPU each then takes:
 * MiniClusters whose TaskManagers each have one GPU in Flink's resource accounting ({@code external-resource.gpu.amount:
 * 1}), a job shaped like ours (a source, a wide decode stage, the tokenizer at one subtask per GPU) with {@link
 * ImageStages}' slot-sharing groups, and Flink's own record of the TaskManager each subtask ran on (the job's archived
 * execution graph). A MiniCluster gives tasks no external-resource infos (it starts TaskManagers without a driver),
 * so, as {@code GpuAssignmentTest} does, each TaskManager's GPU is a fake info, and {@link GpuAssignment} hands the
 * tokenizer subtasks of each TaskManager their GPUs from it exactly as the tokenizer does with {@code
 * getExternalResourceInfos("gpu")}. The real tokenizer would open a CUDA session (no GPU here): an identity map
 * named {@code tokenize} stands in for it.
 */
class GpuPlacementTest {
    static final int SLOTS = 3;

    @Test
    void eachTokenizerSubtaskGetsATaskManager_andAGpu_ofItsOwn() throws Exception {
        Configuration cluster = cluster();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        ImageStages.configure(env, gpuJob());
        // Two tokenizer subtasks and four decode subtasks on two TaskManagers of three slots: Flink's default
        // slot sharing would put a tokenizer subtask in each of two decode slots, on one TaskManager or two.
        Map<Integer, ResourceID> placed = tokenizerPlacement(cluster, 2, job(env, 4, 2, ImageStages.TOKENIZER_GROUP));
        assertThat(placed).containsOnlyKeys(0, 1);
        assertThat(new HashSet<>(placed.values())).as("TaskManagers of the tokenizer subtasks").hasSize(2);
        List<GpuAssignment.Lease> leases = takeGpus(placed);
        try {
            assertThat(leases).extracting(GpuAssignment.Lease::device).as("GPUs, one per TaskManager").containsExactlyInAnyOrder(0, 1);
            assertThat(leases).extracting(GpuAssignment.Lease::holders).as("holders of each GPU").containsOnly(1);
        } finally {
            leases.forEach(GpuAssignment.Lease::close);
        }
    }

    @Test
    void withoutTheGroups_twoTokenizerSubtasksShareAGpu_andItIsLoggedAsAnError() throws Exception {
        Configuration cluster = cluster();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        // One TaskManager with one GPU and three slots; the tokenizer shares the decode subtasks' slots.
        Map<Integer, ResourceID> placed = tokenizerPlacement(cluster, 1, job(env, 2, 2, null));
        assertThat(new HashSet<>(placed.values())).hasSize(1);
        try (LogCapture log = LogCapture.install(Level.ERROR)) {
            List<GpuAssignment.Lease> leases = takeGpus(placed);
            try {
                assertThat(leases).extracting(GpuAssignment.Lease::device).containsExactly(0, 0);
                assertThat(leases).extracting(GpuAssignment.Lease::holders).containsExactly(2, 2);
            } finally {
                leases.forEach(GpuAssignment.Lease::close);
            }
            assertThat(log.text()).contains("GPU 0 is now held by 2 tokenizer subtasks of this TaskManager, which has 1 ([0])");
        }
    }

    /**
     * What each tokenizer subtask takes on its TaskManager: a GPU from that TaskManager's (one fake GPU per
     * TaskManager, the i-th TaskManager's with ordinal i, as on one host; per TaskManager, as the tokenizer's
     * {@link GpuAssignment} counts per JVM).
     */
    static List<GpuAssignment.Lease> takeGpus(Map<Integer, ResourceID> placed) {
        List<ResourceID> taskManagers = placed.values().stream().distinct().sorted(Comparator.comparing(ResourceID::toString)).toList();
        List<GpuAssignment.Lease> leases = new ArrayList<>();
        for (ResourceID taskManager : placed.values()) {
            leases.add(GpuAssignment.acquire(List.of(new FakeGpu(Integer.toString(taskManagers.indexOf(taskManager))))));
        }
        return leases;
    }

    @Test
    void theJobsOwnStages_takeTheGroups_onlyWhenGpusComeFromFlink() throws Exception {
        Configuration cluster = cluster();
        StreamGraph gpu = streamGraph(cluster, gpuJob());
        Optional<ImageStages.GpuSlots> slots = ImageStages.gpuSlots(cluster, gpuJob());
        assertThat(slots).isPresent();
        Map<String, String> groups = groups(gpu);
        assertThat(groups).containsEntry("tokenize", ImageStages.TOKENIZER_GROUP).containsEntry("encode", ImageStages.TOKENIZER_GROUP)
                .containsEntry("decode", "default").containsEntry("images", "default");
        SlotSharingGroup tokenizer = slots.get().tokenizer();
        assertThat(tokenizer.getExternalResources()).containsExactly(Map.entry(GpuAssignment.RESOURCE, 1.0));
        assertThat(slots.get().others().getExternalResources()).isEmpty();
        // The TaskManager's task heap (256 MiB) over its 3 slots; its 3 cores to the 2 other slots, but a token.
        assertThat(tokenizer.getTaskHeapMemory()).contains(MemorySize.parse("256m").divide(SLOTS));
        assertThat(slots.get().others().getTaskHeapMemory()).isEqualTo(tokenizer.getTaskHeapMemory());
        assertThat(tokenizer.getCpuCores()).contains(ImageStages.GPU_SLOT_CPU);
        assertThat(slots.get().others().getCpuCores()).contains((3 - ImageStages.GPU_SLOT_CPU) / 2);
        assertThat(gpu.getSlotSharingGroupResource(ImageStages.TOKENIZER_GROUP)).isPresent();
        assertThat(gpu.getSlotSharingGroupResource("default")).isPresent();

        // The embedded default (a MiniCluster, CPU), and CUDA on a cluster without Flink's GPU resource: untouched.
        JobConfig cpu = JobConfig.fromMap(Map.of("model.dir", TestPaths.tinyModel().toString()));
        Configuration noGpus = new Configuration();
        for (StreamGraph plain : List.of(streamGraph(cluster, cpu), streamGraph(noGpus, gpuJob()))) {
            assertThat(groups(plain).values()).containsOnly("default");
            assertThat(plain.getSlotSharingGroupResource("default")).isEmpty();
        }
    }

    /** What a cluster's configuration says about its TaskManagers: 3 slots, 3 cores, one GPU. */
    static Configuration cluster() {
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, SLOTS);
        conf.set(TaskManagerOptions.CPU_CORES, 3.0);
        conf.set(TaskManagerOptions.TASK_HEAP_MEMORY, MemorySize.parse("256m"));
        conf.set(TaskManagerOptions.TASK_OFF_HEAP_MEMORY, MemorySize.parse("64m"));
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ZERO);
        conf.set(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST, List.of(GpuAssignment.RESOURCE));
        conf.setString(ExternalResourceOptions.getAmountConfigOptionForResource(GpuAssignment.RESOURCE), "1");
        // A job Flink cannot place fails within a minute, and is not restarted (checkpointing would restart it forever).
        conf.set(JobManagerOptions.SLOT_REQUEST_TIMEOUT, Duration.ofMinutes(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        return conf;
    }

    static JobConfig gpuJob() {
        return JobConfig.fromMap(Map.of("model.dir", TestPaths.tinyModel().toString(), "model.provider", "cuda",
                "parallelism.tokenizer", "2"));
    }

    /** The job's real stages on {@code cluster}, with {@code config}, as a stream graph (nothing runs). */
    static StreamGraph streamGraph(Configuration cluster, JobConfig config) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cluster);
        ImageStages.configure(env, config);
        DataStream<InputImage> images = env.fromSequence(1, 1).map(n -> (InputImage) null).returns(InputImage.class).name("images");
        ImageStages.process(JobPlan.forFiles(config, "gpu-placement"), images).sinkTo(new DiscardingSink<>());
        return env.getStreamGraph();
    }

    static Map<String, String> groups(StreamGraph graph) {
        Map<String, String> groups = new TreeMap<>();
        for (StreamNode node : graph.getStreamNodes()) {
            groups.put(node.getOperatorName(), node.getSlotSharingGroup());
        }
        return groups;
    }

    /** Source, a decode-like stage of {@code decode} subtasks, a tokenizer stand-in of {@code tokenizers} subtasks. */
    static StreamExecutionEnvironment job(StreamExecutionEnvironment env, int decode, int tokenizers, String tokenizerGroup) {
        SingleOutputStreamOperator<Long> tokenize = env.fromSequence(1, 1000).setParallelism(2)
                .map(n -> n).setParallelism(decode).name("decode")
                .rebalance()
                .map(n -> n).setParallelism(tokenizers).name("tokenize");
        if (tokenizerGroup != null) {
            tokenize.slotSharingGroup(tokenizerGroup);
        }
        tokenize.sinkTo(new DiscardingSink<>());
        return env;
    }

    /** Runs the job on a MiniCluster of {@code taskManagers}: tokenizer subtask -> the TaskManager Flink ran it on. */
    static Map<Integer, ResourceID> tokenizerPlacement(Configuration cluster, int taskManagers, StreamExecutionEnvironment env)
            throws Exception {
        MiniClusterConfiguration configuration = new MiniClusterConfiguration.Builder().setConfiguration(cluster)
                .setNumTaskManagers(taskManagers).setNumSlotsPerTaskManager(SLOTS).build();
        try (MiniCluster miniCluster = new MiniCluster(configuration)) {
            miniCluster.start();
            JobID job = miniCluster.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();
            assertThat(miniCluster.requestJobResult(job).get().isSuccess()).isTrue();
            Map<Integer, ResourceID> placed = new TreeMap<>();
            for (AccessExecutionJobVertex vertex : miniCluster.getArchivedExecutionGraph(job).get().getAllVertices().values()) {
                if (vertex.getName().startsWith("tokenize")) {
                    for (AccessExecutionVertex subtask : vertex.getTaskVertices()) {
                        placed.put(subtask.getParallelSubtaskIndex(), subtask.getCurrentAssignedResourceLocation().getResourceID());
                    }
                }
            }
            return placed;
        }
    }

    /** A GPU as Flink's GPU driver reports it: its CUDA ordinal as {@code index}. */
    record FakeGpu(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return "index".equals(key) ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return List.of("index");
        }
    }
}
