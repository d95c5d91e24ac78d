package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.openshift.api.model.monitoring.v1.PodMetricsEndpoint;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.strimzi.api.kafka.model.common.Constants;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.kafka.listener.GenericKafkaListener;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.nodepool.ProcessRoles;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.vqrae.models.onnx.ExecutionProvider;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.operators.tokenize.GpuAssignment;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.ImageStages;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.operators.util.SlotSharingGroupUtils;
import org.apache.flink.autoscaler.config.AutoScalerOptions;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.spec.UpgradeMode;
import org.apache.flink.kubernetes.operator.config.KubernetesOperatorConfigOptions;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.runtime.clusterframework.types.ResourceBudgetManager;
import org.apache.flink.runtime.clusterframework.types.ResourceProfile;
import org.apache.flink.runtime.resourcemanager.WorkerResourceSpec;
import org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerUtils;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/k8s parsed into the model classes of its kinds (the Flink Kubernetes Operator's FlinkDeployment,
 * Strimzi's Kafka, KafkaNodePool and KafkaTopic, fabric8's ConfigMap and PodMonitor), every key checked to be a
 * field of its model, and the manifests checked against each other and against the job's own configuration
 * classes, defaults and record sizing.
 */
class DeployManifestsTest {
    /**
     * The {@code spec.flinkVersion} values operator 1.13.0 accepts: the enum of its FlinkDeployment CRD
     * (apache/flink-kubernetes-operator, tag release-1.13.0, helm/flink-kubernetes-operator/crds/
     * flinkdeployments.flink.apache.org-v1.yml). The 1.10.0 model classes on Maven Central stop at v1_20.
     */
    static final List<String> OPERATOR_1_13_FLINK_VERSIONS = List.of(
            "v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2");

    /** Flink's option classes whose keys a FlinkDeployment here may set. */
    static final List<Class<?>> FLINK_OPTION_CLASSES = List.of(CoreOptions.class, TaskManagerOptions.class,
            JobManagerOptions.class, CheckpointingOptions.class, StateBackendOptions.class,
            HighAvailabilityOptions.class, RestartStrategyOptions.class, ExternalResourceOptions.class,
            // The operator's own keys, which a FlinkDeployment may set for itself.
            KubernetesOperatorConfigOptions.class, AutoScalerOptions.class);

    /** The keys of the Prometheus reporter named {@code prom}. */
    static final String FLINK_REPORTER = "metrics.reporter.prom.";

    /** Flink's Kubernetes config key for an external resource's amount (KubernetesConfigOptions, flink-kubernetes). */
    static final String KUBERNETES_CONFIG_KEY_SUFFIX = "kubernetes.config-key";

    static final String MAIN_CONTAINER = "flink-main-container";

    static FlinkDeployment deployment;
    static String flinkVersion;
    static Configuration flink;
    static ConfigMap jobConfigMap;
    static JobConfig job;
    static Kafka kafka;
    static List<KafkaNodePool> pools;
    static List<KafkaTopic> topics;
    static PodMonitor podMonitor;

    @BeforeAll
    static void parse(@TempDir Path tmp) {
        Manifests.Deployment parsed = Manifests.flinkDeployment();
        deployment = parsed.resource();
        flinkVersion = parsed.flinkVersion();
        flink = Configuration.fromMap(deployment.getSpec().getFlinkConfiguration());

        jobConfigMap = Manifests.bind(Manifests.one("job-config.yaml", "ConfigMap"), ConfigMap.class);
        job = Manifests.jobConfig(jobConfigMap, jobConfigFile().getFileName().toString(), tmp);

        kafka = Manifests.bind(Manifests.one("kafka.yaml", "Kafka"), Kafka.class);
        pools = Manifests.ofKind("kafka.yaml", "KafkaNodePool").stream().map(d -> Manifests.bind(d, KafkaNodePool.class)).toList();
        topics = Manifests.ofKind("kafka-topics.yaml", "KafkaTopic").stream().map(d -> Manifests.bind(d, KafkaTopic.class)).toList();
        podMonitor = Manifests.bind(Manifests.one("pod-monitor.yaml", "PodMonitor"), PodMonitor.class);
    }

    @Test
    void apiVersions_areTheModelsAndTheIssues() {
        // As written: Strimzi's classes serve every version of their kind and report their own default.
        assertThat(apiVersions("flink-deployment.yaml")).containsOnly(HasMetadata.getApiVersion(FlinkDeployment.class));
        assertThat(Kafka.VERSIONS).contains(Constants.V1);
        assertThat(apiVersions("kafka.yaml")).containsOnly(Kafka.RESOURCE_GROUP + "/" + Constants.V1);
        assertThat(apiVersions("kafka-topics.yaml")).containsOnly(KafkaTopic.RESOURCE_GROUP + "/" + Constants.V1);
        assertThat(apiVersions("pod-monitor.yaml")).containsOnly(HasMetadata.getApiVersion(PodMonitor.class));
    }

    @Test
    void flinkVersion_isOneOperator113AcceptsAndTheJobsFlink() {
        assertThat(OPERATOR_1_13_FLINK_VERSIONS).contains(flinkVersion);
        String[] flinkRelease = System.getProperty("vqrae.flink.version").split("\\.");
        assertThat(flinkVersion).isEqualTo("v" + flinkRelease[0] + "_" + flinkRelease[1]);
    }

    @Test
    void flinkConfiguration_setsOnlyCurrentFlinkOptions() throws IllegalAccessException {
        Map<String, ConfigOption<?>> current = new HashMap<>();
        Map<String, String> deprecated = new HashMap<>();
        for (Class<?> options : FLINK_OPTION_CLASSES) {
            for (Field field : options.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.get(null) instanceof ConfigOption<?> option) {
                    current.put(option.key(), option);
                    for (FallbackKey fallback : option.fallbackKeys()) {
                        deprecated.put(fallback.getKey(), option.key());
                    }
                }
            }
        }
        // external-resource.gpu.*: keys Flink builds from the resource name, checked in gpus_externalResourceAndPodLimitAgree;
        // metrics.reporter.prom.*: the reporter's, checked in flinksOwnMetrics_haveAPortOfTheirOwn.
        String gpuPrefix = ExternalResourceOptions.getAmountConfigOptionForResource(GpuAssignment.RESOURCE)
                .replace(ExternalResourceOptions.EXTERNAL_RESOURCE_AMOUNT_SUFFIX, "");
        List<String> problems = new ArrayList<>();
        for (String key : deployment.getSpec().getFlinkConfiguration().keySet()) {
            if (deprecated.containsKey(key) && !current.containsKey(key)) {
                problems.add(key + " (deprecated: " + deprecated.get(key) + ")");
            } else if (!current.containsKey(key) && !key.startsWith(gpuPrefix) && !key.startsWith(FLINK_REPORTER)) {
                problems.add(key + " (not an option of Flink " + System.getProperty("vqrae.flink.version") + " or the operator)");
            }
        }
        assertThat(problems).isEmpty();
        // Typed reads fail on values Flink cannot parse.
        assertThat(flink.get(TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE)).isEqualTo(TaskManagerOptions.TaskManagerLoadBalanceMode.TASKS);
        assertThat(flink.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT)).isPositive();
    }

    /** deploy/README.md, "Autoscaler": the operator must not rescale a job whose capacity is its GPUs. */
    @Test
    void autoscaler_isOff() {
        assertThat(flink.get(AutoScalerOptions.AUTOSCALER_ENABLED)).isFalse();
        assertThat(deployment.getSpec().getFlinkConfiguration()).containsKey(AutoScalerOptions.AUTOSCALER_ENABLED.key());
    }

    @Test
    void classLoading_andJvmOptions_areWhatDocsPipelineAsks() throws IOException {
        assertThat(flink.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL)).contains("ai.onnxruntime.", "com.sun.jna.");
        List<String> jvmOptions;
        try (Stream<String> lines = Files.lines(Manifests.DEPLOY.resolve("flink-jvm-options"))) {
            jvmOptions = lines.map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        }
        assertThat(flink.get(CoreOptions.FLINK_JVM_OPTIONS).split("\\s+")).containsExactlyElementsOf(jvmOptions);
    }

    @Test
    void state_isOnS3_andUpgradesKeepIt() {
        assertThat(flink.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).startsWith("s3://");
        assertThat(flink.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).startsWith("s3://");
        assertThat(deployment.getSpec().getJob().getUpgradeMode()).isEqualTo(UpgradeMode.LAST_STATE);
        // last-state restores from the latest checkpoint the HA metadata points to.
        assertThat(flink.get(HighAvailabilityOptions.HA_MODE)).isEqualTo("kubernetes");
        assertThat(flink.get(HighAvailabilityOptions.HA_STORAGE_PATH)).startsWith("s3://");
    }

    @Test
    void s3_isSetWhereTheClustersFilesystemsReadIt_withCredentialsFromTheSecretOnly() {
        // Under `flink run` the job refuses s3.* keys of its own (ConfigOptions): every JobManager and TaskManager
        // sets up its filesystems from the Flink configuration, so that is where S3 settings go.
        assertThat(job.s3().settings()).isEmpty();
        Map<String, String> s3Keys = new TreeMap<>(deployment.getSpec().getFlinkConfiguration());
        s3Keys.keySet().removeIf(key -> !key.startsWith("s3.") && !key.startsWith("fs.s3a."));
        // Any s3.* key is one the local commands take too (S3Settings); credentials are never written in the configuration.
        assertThat(s3Keys.keySet()).noneMatch(key -> key.matches("(s3|fs\\.s3a)\\.(access|secret)[-.]key|.*session.token"));
        // Flink's S3 plugin (Hadoop S3A) reads credentials from these variables, given from the vqrae-s3 Secret.
        Container main = deployment.getSpec().getPodTemplate().getSpec().getContainers().stream()
                .filter(c -> c.getName().equals(MAIN_CONTAINER)).findFirst().orElseThrow();
        Map<String, String> fromSecret = new TreeMap<>();
        main.getEnv().stream().filter(e -> e.getName().startsWith("AWS_")).forEach(e -> {
            assertThat(e.getValue()).as(e.getName()).isNull();
            fromSecret.put(e.getName(), e.getValueFrom().getSecretKeyRef().getName() + "/" + e.getValueFrom().getSecretKeyRef().getKey());
        });
        assertThat(fromSecret).isEqualTo(Map.of("AWS_ACCESS_KEY_ID", "vqrae-s3/access-key-id", "AWS_SECRET_ACCESS_KEY", "vqrae-s3/secret-access-key"));
    }

    @Test
    void job_isTheJarsCliWithTheMountedConfig() {
        var spec = deployment.getSpec().getJob();
        assertThat(spec.getEntryClass()).isEqualTo(VqraeCli.class.getName());
        List<String> args = List.of(spec.getArgs());
        assertThat(args.get(0)).isEqualTo("run");
        assertThat(args).containsSubsequence("--config", jobConfigFile().toString());
        assertThat(jobConfigMap.getData()).containsKey(jobConfigFile().getFileName().toString());
    }

    @Test
    void modelDir_isOnAVolumeOfTheJobManagerAndEveryTaskManager() {
        Path modelDir = Path.of(job.model().dir());
        assertThat(mounts(jobManagerPod())).extracting(VolumeMount::getMountPath).as("the JobManager's mounts")
                .anyMatch(path -> modelDir.startsWith(path));
        assertThat(mounts(taskManagerPod())).extracting(VolumeMount::getMountPath).as("a TaskManager's mounts")
                .anyMatch(path -> modelDir.startsWith(path));
    }

    @Test
    void gpus_externalResourceAndPodLimitAgree_andEachTokenizerSubtaskGetsOne() {
        assertThat(job.model().provider()).isEqualTo(ExecutionProvider.CUDA);
        assertThat(job.model().deviceIds()).as("model.device-ids: [] takes GPUs from Flink's external resource").isEmpty();
        assertThat(flink.get(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST)).contains(GpuAssignment.RESOURCE);
        Map<String, String> conf = deployment.getSpec().getFlinkConfiguration();
        assertThat(conf.get(ExternalResourceOptions.getExternalResourceDriverFactoryConfigOptionForResource(GpuAssignment.RESOURCE)))
                .isEqualTo("org.apache.flink.externalresource.gpu.GPUDriverFactory");
        long gpusPerTaskManager = Long.parseLong(conf.get(ExternalResourceOptions.getAmountConfigOptionForResource(GpuAssignment.RESOURCE)));
        String resourceKey = conf.get(ExternalResourceOptions.getSystemConfigKeyConfigOptionForResource(GpuAssignment.RESOURCE, KUBERNETES_CONFIG_KEY_SUFFIX));
        Quantity limit = mainContainer(taskManagerPod()).getResources().getLimits().get(resourceKey);
        assertThat(limit).as("pod template limit %s", resourceKey).isNotNull();
        assertThat(limit.getNumericalAmount().longValueExact()).isEqualTo(gpusPerTaskManager);
        assertThat(mainContainer(jobManagerPod()).getResources()).as("the JobManager needs no GPU").isNull();

        // The job's slots (ImageStages): per TaskManager, slots - GPUs in the default group (source, decode at
        // job.parallelism) and one per GPU for the tokenizer, so as many TaskManagers for each.
        int slots = flink.get(TaskManagerOptions.NUM_TASK_SLOTS);
        int parallelism = deployment.getSpec().getJob().getParallelism();
        long decodeSlots = slots - gpusPerTaskManager;
        assertThat(parallelism % decodeSlots).as("job.parallelism %s fills whole TaskManagers of %s decode slots", parallelism, decodeSlots).isZero();
        assertThat((long) job.parallelism().tokenizer()).isEqualTo(parallelism / decodeSlots * gpusPerTaskManager);
        int decode = job.parallelism().decode() == 0 ? parallelism : job.parallelism().decode();
        assertThat(Math.max(decode, job.parallelism().source())).isLessThanOrEqualTo(parallelism);
    }

    /**
     * The slots the job asks for fit a TaskManager as Flink counts it, in the layout above and no other: Flink's
     * resource manager sizes each TaskManager from this configuration ({@code WorkerResourceSpec}, the total profile
     * its slot manager books slots against), and {@link ResourceBudgetManager} books a TaskManager's slots.
     */
    @Test
    void tokenizerSlots_fitEachTaskManagerOncePerGpu() {
        Configuration cluster = new Configuration(flink);
        cluster.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse(deployment.getSpec().getTaskManager().getResource().getMemory()));
        ImageStages.GpuSlots groups = ImageStages.gpuSlots(cluster, job).orElseThrow();
        ResourceProfile total = SlotManagerUtils.generateTaskManagerTotalResourceProfile(
                WorkerResourceSpec.fromTaskExecutorProcessSpec(TaskExecutorProcessUtils.processSpecFromConfig(cluster)));
        ResourceProfile tokenizer = ResourceProfile.fromResourceSpec(SlotSharingGroupUtils.extractResourceSpec(groups.tokenizer()), MemorySize.ZERO);
        ResourceProfile other = ResourceProfile.fromResourceSpec(SlotSharingGroupUtils.extractResourceSpec(groups.others()), MemorySize.ZERO);
        int slots = flink.get(TaskManagerOptions.NUM_TASK_SLOTS);
        int gpus = Integer.parseInt(deployment.getSpec().getFlinkConfiguration().get(ExternalResourceOptions.getAmountConfigOptionForResource(GpuAssignment.RESOURCE)));
        // Either order of booking: Flink's slot manager takes requirements in no fixed order.
        for (boolean tokenizerFirst : List.of(true, false)) {
            ResourceBudgetManager taskManager = new ResourceBudgetManager(total);
            List<ResourceProfile> layout = new ArrayList<>(Collections.nCopies(gpus, tokenizer));
            layout.addAll(Collections.nCopies(slots - gpus, other));
            if (!tokenizerFirst) {
                Collections.reverse(layout);
            }
            assertThat(layout).allSatisfy(slot -> assertThat(taskManager.reserve(slot)).as("%s on %s", slot, taskManager.getAvailableBudget()).isTrue());
            assertThat(taskManager.reserve(other)).as("one more decode slot").isFalse();
            assertThat(taskManager.reserve(tokenizer)).as("one more tokenizer slot").isFalse();
        }
        // And a TaskManager that only got decode slots so far has room for no more than slots - GPUs of them.
        ResourceBudgetManager decodeOnly = new ResourceBudgetManager(total);
        int decodeSlots = 0;
        while (decodeOnly.reserve(other)) {
            decodeSlots++;
        }
        assertThat(decodeSlots).isEqualTo(slots - gpus);
        assertThat(decodeOnly.reserve(tokenizer)).isTrue();
    }

    /**
     * What deploy/README.md ("TaskManager memory") measured of a TaskManager running so400m-256 (on CPU, with
     * deploy/measure-taskmanager-memory): resident memory that is not the JVM's (ONNX Runtime: weights, arena), at
     * batch 32, and the JVM's own beside heap, metaspace and direct buffers (code cache, GC, symbols, threads).
     */
    static final MemorySize MEASURED_NATIVE = MemorySize.ofMebiBytes(2830);
    static final MemorySize MEASURED_JVM_OWN = MemorySize.ofMebiBytes(285);
    /** Not measured (no GPU here): the CUDA runtime's, cuBLAS's and cuDNN's host memory in a GPU TaskManager. */
    static final MemorySize CUDA_HOST_ESTIMATE = MemorySize.parse("1536m");

    @Test
    void taskManagerMemory_isAValidFlinkProcessSpec_withTheMeasuredNativeMemory() {
        var resource = deployment.getSpec().getTaskManager().getResource();
        Configuration conf = new Configuration(flink);
        conf.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse(resource.getMemory()));
        conf.set(TaskManagerOptions.CPU_CORES, resource.getCpu());
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        assertThat(spec.getTaskOffHeapSize()).isEqualTo(flink.get(TaskManagerOptions.TASK_OFF_HEAP_MEMORY))
                .as("task off-heap holds ONNX Runtime's native memory").isGreaterThanOrEqualTo(MEASURED_NATIVE);
        assertThat(spec.getJvmOverheadSize()).as("JVM overhead holds the JVM's own native memory and CUDA's")
                .isGreaterThanOrEqualTo(MEASURED_JVM_OWN.add(CUDA_HOST_ESTIMATE));
        assertThat(spec.getTaskHeapSize().getBytes()).isPositive();
        assertThat(resource.getCpu()).isGreaterThanOrEqualTo(flink.get(TaskManagerOptions.NUM_TASK_SLOTS));
        assertThat(flink.get(TaskManagerOptions.CPU_CORES)).as("taskmanager.cpu.cores: the pod's, which the job's slots share")
                .isEqualTo(resource.getCpu());
    }

    @Test
    void bootstrapServers_areTheKafkaClustersListener() {
        List<String> addresses = new ArrayList<>();
        for (GenericKafkaListener listener : kafka.getSpec().getKafka().getListeners()) {
            addresses.add(kafka.getMetadata().getName() + "-kafka-bootstrap:" + listener.getPort());
        }
        assertThat(addresses).contains(job.kafka().bootstrapServers());
    }

    @Test
    void topics_areTheJobsTopics_onThisCluster_withItsReplication() {
        JobConfig.Topics names = job.kafka().topics();
        assertThat(topics).extracting(DeployManifestsTest::topicName)
                .containsExactlyInAnyOrder(names.input(), names.tokens(), names.features(), names.deadLetter());
        assertThat(job.kafka().createTopics()).as("the Topic Operator owns the topics").isFalse();
        int brokers = pools.stream().filter(p -> p.getSpec().getRoles().contains(ProcessRoles.BROKER))
                .mapToInt(p -> p.getSpec().getReplicas()).sum();
        int minInSync = Integer.parseInt(kafka.getSpec().getKafka().getConfig().get("min.insync.replicas").toString());
        for (KafkaTopic topic : topics) {
            assertThat(topic.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", kafka.getMetadata().getName());
            assertThat(topic.getSpec().getReplicas()).isLessThanOrEqualTo(brokers).isGreaterThan(minInSync);
        }
        assertThat(pools).allSatisfy(p -> assertThat(p.getMetadata().getLabels()).containsEntry("strimzi.io/cluster", kafka.getMetadata().getName()));
    }

    @Test
    void partitions_coverTheParallelism() {
        JobConfig.Parallelism parallelism = job.parallelism();
        int input = topic(job.kafka().topics().input()).getSpec().getPartitions();
        assertThat(input % parallelism.source()).as("input partitions %s spread evenly over %s source subtasks", input, parallelism.source()).isZero();
        for (String output : List.of(job.kafka().topics().tokens(), job.kafka().topics().features(), job.kafka().topics().deadLetter())) {
            assertThat(topic(output).getSpec().getPartitions()).as(output).isGreaterThanOrEqualTo(parallelism.tokenizer());
        }
    }

    @Test
    void maxMessageBytes_takeTheRecordsTheJobWrites() {
        RecordLimits limits = RecordLimits.forModel(ModelShapes.of(job.model()), job.features(), job.limits(), job.kafka().maxRecordBytes());
        JobConfig.Topics names = job.kafka().topics();
        assertThat(maxMessageBytes(topic(names.input()))).isGreaterThanOrEqualTo(RecordLimits.inputRecordBytes(job.limits()));
        for (String output : List.of(names.tokens(), names.features(), names.deadLetter())) {
            assertThat(maxMessageBytes(topic(output))).as(output).isGreaterThanOrEqualTo(limits.maxRecordBytes());
        }
        int largest = topics.stream().mapToInt(DeployManifestsTest::maxMessageBytes).max().orElseThrow();
        assertThat(Integer.parseInt(kafka.getSpec().getKafka().getConfig().get("replica.fetch.max.bytes").toString()))
                .isGreaterThanOrEqualTo(largest);
    }

    /**
     * A transaction opens at one checkpoint and commits when the next completes (interval + checkpoint time); when
     * the job fails in between, the restarted job commits it, however long the job was down. So it must outlive an
     * outage of {@link #OUTAGE} and the restart after it, and stay clearly below the brokers' maximum, which refuses a
     * producer asking for more (deploy/README.md, "Outages").
     */
    @Test
    void transactions_outliveAnOutage_withinTheBrokersLimit() {
        Duration interval = job.checkpoint().interval();
        Duration timeout = job.kafka().transactionTimeout();
        Duration brokerMax = Duration.ofMillis(Long.parseLong(brokerConfig("transaction.max.timeout.ms", null)));
        Duration checkpoint = interval.plus(flink.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT));
        assertThat(checkpoint.plus(OUTAGE).plus(RESTART)).as("interval + checkpoint timeout + outage + restart").isLessThanOrEqualTo(timeout);
        assertThat(timeout).as("kafka.transaction-timeout at least 10%% below transaction.max.timeout.ms")
                .isLessThanOrEqualTo(brokerMax.multipliedBy(9).dividedBy(10));
        Duration idExpiration = Duration.ofMillis(Long.parseLong(brokerConfig("transactional.id.expiration.ms", "604800000")));
        assertThat(idExpiration).as("transactional ids remembered past the outage").isGreaterThan(timeout.plus(OUTAGE));
    }

    /** The input waits in Kafka while the job is down: its retention covers the outage and the restart. */
    @Test
    void inputRetention_outlivesAnOutage() {
        KafkaTopic input = topic(job.kafka().topics().input());
        Duration retention = Duration.ofMillis(Long.parseLong(input.getSpec().getConfig().get("retention.ms").toString()));
        assertThat(retention).isGreaterThanOrEqualTo(OUTAGE.plus(RESTART));
    }

    /** The outage the deployment is sized to survive without losing input or committed output. */
    static final Duration OUTAGE = Duration.ofHours(24);

    /** Time to bring the job back after the outage: pods rescheduled, state restored from S3, the backlog begun. */
    static final Duration RESTART = Duration.ofHours(1);

    static String brokerConfig(String key, String orElse) {
        Object value = kafka.getSpec().getKafka().getConfig().get(key);
        assertThat(value != null || orElse != null).as("broker config %s", key).isTrue();
        return value == null ? orElse : value.toString();
    }

    @Test
    void podMonitor_scrapesTheJobsMetricsOnTaskManagers_andFlinksEverywhere() {
        // Flink labels a FlinkDeployment's JobManager and TaskManager pods app: <name>.
        assertThat(podMonitor.getSpec().getSelector().getMatchLabels()).containsExactly(Map.entry("app", deployment.getMetadata().getName()));
        List<PodMetricsEndpoint> endpoints = podMonitor.getSpec().getPodMetricsEndpoints();
        assertThat(endpoints).extracting(PodMetricsEndpoint::getPath).containsOnly("/metrics");

        PodMetricsEndpoint jobs = endpoints.stream().filter(e -> "metrics".equals(e.getPort())).findFirst().orElseThrow();
        assertThat(jobs.getHonorLabels()).as("the series' own job label must survive").isTrue();
        assertThat(port(taskManagerPod(), jobs.getPort())).as("metrics.port: one port per TaskManager pod").hasValue(job.metrics().port());
        assertThat(port(jobManagerPod(), jobs.getPort())).as("no job metrics on the JobManager").isEmpty();

        PodMetricsEndpoint flinks = endpoints.stream().filter(e -> !e.equals(jobs)).findFirst().orElseThrow();
        String reporterPort = flink.toMap().get(FLINK_REPORTER + "port");
        assertThat(port(taskManagerPod(), flinks.getPort())).hasValue(reporterPort);
        assertThat(port(jobManagerPod(), flinks.getPort())).as("checkpoints and restarts are the JobManager's").hasValue(reporterPort);
    }

    /** Flink's Prometheus reporter: Flink's own factory, on a port that is not the job's. */
    @Test
    void flinksOwnMetrics_haveAPortOfTheirOwn() throws Exception {
        Map<String, String> reporter = new TreeMap<>();
        flink.toMap().forEach((key, value) -> {
            if (key.startsWith(FLINK_REPORTER)) {
                reporter.put(key.substring(FLINK_REPORTER.length()), value);
            }
        });
        assertThat(reporter).containsOnlyKeys("factory.class", "port", "filterLabelValueCharacters");
        // Or job_name="vqrae_stream" where the job's series have job="vqrae-stream" (MetricsEndToEndTest).
        assertThat(reporter).containsEntry("filterLabelValueCharacters", "false");
        assertThat(Class.forName(reporter.get("factory.class"))).isEqualTo(PrometheusReporterFactory.class);
        assertThat(reporter.get("port")).as("one port: one JVM per pod").matches("\\d+");
        assertThat(job.metrics().port()).isNotEqualTo(reporter.get("port"));
    }

    /** The number of the container port named {@code name} of the pod's main container, if it has one. */
    static Optional<String> port(PodSpec pod, String name) {
        return mainContainer(pod).getPorts().stream().filter(p -> name.equals(p.getName()))
                .map(p -> p.getContainerPort().toString()).findFirst();
    }

    @Test
    void grafanaDashboard_isDeployGrafanaVqraeJson() throws IOException {
        ConfigMap dashboard = Manifests.bind(Manifests.one("grafana-dashboard.yaml", "ConfigMap"), ConfigMap.class);
        assertThat(dashboard.getData().get("vqrae.json")).isEqualTo(Files.readString(Manifests.DEPLOY.resolve("grafana/vqrae.json")));
    }

    @Test
    void kustomization_listsEveryManifest() throws IOException {
        Set<String> files;
        try (Stream<Path> list = Files.list(Manifests.K8S)) {
            files = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        JsonNode kustomization = Manifests.documents("kustomization.yaml").get(0);
        List<String> resources = new ArrayList<>();
        kustomization.get("resources").forEach(r -> resources.add(r.asText()));
        assertThat(resources).containsExactlyInAnyOrderElementsOf(files);
    }

    /** Where the FlinkDeployment's args read the job's config: after {@code --config}. */
    static Path jobConfigFile() {
        List<String> args = Arrays.asList(deployment.getSpec().getJob().getArgs());
        return Path.of(args.get(args.indexOf("--config") + 1));
    }

    /** The JobManager's pod template as the operator makes it ({@link OperatorPods}, with this deployment's array merge). */
    static PodSpec jobManagerPod() {
        return OperatorPods.jobManager(deployment, OperatorPods.mergesArraysByName(deployment)).getSpec();
    }

    /** The TaskManager's pod template as the operator makes it. */
    static PodSpec taskManagerPod() {
        return OperatorPods.taskManager(deployment, OperatorPods.mergesArraysByName(deployment)).getSpec();
    }

    static Container mainContainer(PodSpec pod) {
        return pod.getContainers().stream().filter(c -> MAIN_CONTAINER.equals(c.getName())).findFirst().orElseThrow();
    }

    /** The pod's mounts whose volume is defined in the pod. */
    static List<VolumeMount> mounts(PodSpec pod) {
        Set<String> volumes = pod.getVolumes().stream().map(Volume::getName).collect(Collectors.toSet());
        return mainContainer(pod).getVolumeMounts().stream().filter(m -> volumes.contains(m.getName())).toList();
    }

    static List<String> apiVersions(String file) {
        return Manifests.documents(file).stream().map(d -> d.path("apiVersion").asText()).toList();
    }

    static String topicName(KafkaTopic topic) {
        return topic.getSpec().getTopicName() != null ? topic.getSpec().getTopicName() : topic.getMetadata().getName();
    }

    static KafkaTopic topic(String name) {
        return topics.stream().filter(t -> name.equals(topicName(t))).findFirst().orElseThrow();
    }

    static int maxMessageBytes(KafkaTopic topic) {
        return Integer.parseInt(topic.getSpec().getConfig().get("max.message.bytes").toString());
    }
}
