package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.List;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JobManager and TaskManager pod templates the Flink Kubernetes Operator would make from flink-deployment.yaml
 * with its own merge ({@link OperatorPods}), checked as the API server would check them ({@link PodValidation}).
 */
class OperatorPodsTest {
    static final FlinkDeployment DEPLOYMENT = Manifests.flinkDeployment().resource();

    @Test
    void thePodsTheOperatorMakes_withTheDeploymentsOwnArrayMerge_areAccepted() {
        boolean byName = OperatorPods.mergesArraysByName(DEPLOYMENT);
        assertThat(errors(byName)).isEmpty();
    }

    /**
     * Whichever way the operator merges arrays (its default is by position; the deployment or the operator's
     * config may say by name), the pods are the same and valid: no template relies on the mode.
     */
    @ParameterizedTest(name = "merge-arrays-by-name: {0}")
    @ValueSource(booleans = {false, true})
    void thePodsAreValid_andAlike_inEitherArrayMerge(boolean byName) {
        assertThat(errors(byName)).isEmpty();
        assertThat(OperatorPods.jobManager(DEPLOYMENT, byName)).isEqualTo(OperatorPods.jobManager(DEPLOYMENT, !byName));
        assertThat(OperatorPods.taskManager(DEPLOYMENT, byName)).isEqualTo(OperatorPods.taskManager(DEPLOYMENT, !byName));
    }

    @Test
    void theApiServersRules_refuseWhatTheSchemaAllows() {
        PodSpec twoSources = new PodSpecBuilder()
                .addNewVolume().withName("models").withNewPersistentVolumeClaim().withClaimName("vqrae-models").endPersistentVolumeClaim()
                .withNewConfigMap().withName("vqrae-job").endConfigMap().endVolume()
                .addToContainers(new ContainerBuilder().withName("flink-main-container")
                        .addNewVolumeMount().withName("job-config").withMountPath("/opt/vqrae/conf").endVolumeMount()
                        .addNewVolumeMount().withName("models").withMountPath("/opt/vqrae/conf").endVolumeMount()
                        .addNewPort().withName("metrics").withContainerPort(9249).endPort()
                        .addNewPort().withName("metrics").withContainerPort(9250).endPort()
                        .addNewPort().withName("flink-prometheus").withContainerPort(9261).endPort()
                        .withNewResources().addToLimits("nvidia.com/gpu", new Quantity("1")).addToRequests("nvidia.com/gpu", new Quantity("2"))
                        .addToLimits("memory", new Quantity("1Gi")).addToRequests("memory", new Quantity("2Gi")).endResources()
                        .build())
                .build();
        assertThat(PodValidation.errors(twoSources, "spec")).containsExactly(
                "spec.volumes[0]: Forbidden: may not specify more than 1 volume type [configMap, persistentVolumeClaim]",
                "spec.containers[0].ports[1].name: Duplicate value: \"metrics\"",
                "spec.containers[0].ports[2].name: Invalid value: \"flink-prometheus\": must be no more than 15 characters",
                "spec.containers[0].volumeMounts[0].name: Not found: \"job-config\"",
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/opt/vqrae/conf\": must be unique",
                "spec.containers[0].resources.requests[nvidia.com/gpu]: Invalid value: \"2\": must be equal to nvidia.com/gpu limit of 1",
                "spec.containers[0].resources.requests[memory]: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi");
    }

    static List<String> errors(boolean byName) {
        List<String> errors = new java.util.ArrayList<>();
        errors.addAll(prefixed("jobmanager ", PodValidation.errors(OperatorPods.jobManager(DEPLOYMENT, byName).getSpec(), "spec")));
        errors.addAll(prefixed("taskmanager ", PodValidation.errors(OperatorPods.taskManager(DEPLOYMENT, byName).getSpec(), "spec")));
        return errors;
    }

    static List<String> prefixed(String prefix, List<String> errors) {
        return errors.stream().map(e -> prefix + e).toList();
    }

    static Container mainContainer(PodSpec pod) {
        return pod.getContainers().stream().filter(c -> DeployManifestsTest.MAIN_CONTAINER.equals(c.getName())).findFirst().orElseThrow();
    }

    static List<String> mountPaths(PodSpec pod) {
        return mainContainer(pod).getVolumeMounts().stream().map(VolumeMount::getMountPath).toList();
    }
}
