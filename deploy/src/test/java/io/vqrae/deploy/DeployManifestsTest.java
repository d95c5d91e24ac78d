package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
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
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
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
            HighAvailabilityOptions.class, RestartStrategyOptions.class, ExternalResourceOptions.class);

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
        // external-resource.gpu.*: keys Flink builds from the resource name, checked in gpus_externalResourceAndPodLimitAgree.
        String gpuPrefix = ExternalResourceOptions.getAmountConfigOptionForResource(GpuAssignment.RESOURCE)
                .replace(ExternalResourceOptions.EXTERNAL_RESOURCE_AMOUNT_SUFFIX, "");
        List<String> problems = new ArrayList<>();
        for (String key : deployment.getSpec().getFlinkConfiguration().keySet()) {
            if (deprecated.containsKey(key) && !current.containsKey(key)) {
                problems.add(key + " (deprecated: " + deprecated.get(key) + ")");
            } else if (!current.containsKey(key) && !key.startsWith(gpuPrefix)) {
                problems.add(key + " (not an option of Flink " + System.getProperty("vqrae.flink.version") + ")");
            }
        }
        assertThat(problems).isEmpty();
        // Typed reads fail on values Flink cannot parse.
        assertThat(flink.get(TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE)).isEqualTo(TaskManagerOptions.TaskManagerLoadBalanceMode.TASKS);
        assertThat(flink.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT)).isPositive();
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

        // Application mode asks for job.parallelism slots: that many / slots per TaskManager TaskManagers.
        int slots = flink.get(TaskManagerOptions.NUM_TASK_SLOTS);
        int parallelism = deployment.getSpec().getJob().getParallelism();
        assertThat(parallelism % slots).as("job.parallelism %s fills whole TaskManagers of %s slots", parallelism, slots).isZero();
        assertThat((long) job.parallelism().tokenizer()).isEqualTo(parallelism / slots * gpusPerTaskManager);
        int decode = job.parallelism().decode() == 0 ? parallelism : job.parallelism().decode();
        assertThat(Math.max(decode, job.parallelism().source())).isLessThanOrEqualTo(parallelism);
    }

    @Test
    void taskManagerMemory_isAValidFlinkProcessSpec() {
        var resource = deployment.getSpec().getTaskManager().getResource();
        Configuration conf = new Configuration(flink);
        conf.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse(resource.getMemory()));
        conf.set(TaskManagerOptions.CPU_CORES, resource.getCpu());
        TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        assertThat(spec.getTaskOffHeapSize()).isEqualTo(flink.get(TaskManagerOptions.TASK_OFF_HEAP_MEMORY));
        assertThat(spec.getTaskHeapSize().getBytes()).isPositive();
        assertThat(resource.getCpu()).isGreaterThanOrEqualTo(flink.get(TaskManagerOptions.NUM_TASK_SLOTS));
    }

    @Test
    void bootstrapServers_areTheKafkaClustersListener() {
        List<String> addresses = new ArrayList<>();
        for (GenericKafkaListener listener : kafka.getSpec().getKafka().getListeners()) {
            if (!listener.isTls()) {
                addresses.add(kafka.getMetadata().getName() + "-kafka-bootstrap:" + listener.getPort());
            }
        }
        assertThat(job.kafka().properties()).as("no client security settings: a plain listener").doesNotContainKey("security.protocol");
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

    @Test
    void transactions_outliveACheckpoint_withinTheBrokersLimit() {
        Duration interval = job.checkpoint().interval();
        Duration timeout = job.kafka().transactionTimeout();
        Duration brokerMax = Duration.ofMillis(Long.parseLong(kafka.getSpec().getKafka().getConfig().get("transaction.max.timeout.ms").toString()));
        // A transaction opens at one checkpoint and commits when the next completes: interval + checkpoint time.
        assertThat(interval.plus(flink.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT))).isLessThan(timeout);
        assertThat(timeout).isLessThanOrEqualTo(brokerMax);
    }

    @Test
    void podMonitor_scrapesTheTaskManagersMetricsPort() {
        assertThat(podMonitor.getSpec().getSelector().getMatchLabels())
                .containsEntry("app", deployment.getMetadata().getName())
                .containsEntry("component", "taskmanager");
        PodMetricsEndpoint endpoint = podMonitor.getSpec().getPodMetricsEndpoints().get(0);
        assertThat(endpoint.getPath()).isEqualTo("/metrics");
        assertThat(endpoint.getHonorLabels()).as("the series' own job label must survive").isTrue();
        ContainerPort port = mainContainer(taskManagerPod()).getPorts().stream()
                .filter(p -> endpoint.getPort().equals(p.getName())).findFirst().orElseThrow();
        assertThat(job.metrics().port()).as("metrics.port: one port per TaskManager pod").isEqualTo(port.getContainerPort().toString());
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
