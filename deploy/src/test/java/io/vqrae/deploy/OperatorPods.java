package io.vqrae.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.config.KubernetesOperatorConfigOptions;
import org.apache.flink.kubernetes.operator.utils.FlinkUtils;

/**
 * The pod templates the Flink Kubernetes Operator hands Flink for a FlinkDeployment (its
 * {@code FlinkConfigBuilder.applyPodTemplate}): the common {@code spec.podTemplate} merged with the
 * JobManager's or the TaskManager's by the operator's own {@link FlinkUtils#mergePodTemplates}, the JobManager's
 * with the operator's startup probe ({@link FlinkUtils#addStartupProbe}, on by default).
 *
 * <p>The merge is the operator jar's own code: 1.7.0 is the newest {@code flink-kubernetes-operator} on Maven
 * Central, and its {@code mergeInto}/{@code mergeArray} are those of 1.13.0 line for line (apache/flink-kubernetes-
 * operator, tags release-1.7.0 and release-1.13.0, FlinkUtils.java); 1.13 only types the templates as
 * {@link PodTemplateSpec} where 1.7 takes a {@link Pod}, which has the same {@code metadata} and {@code spec}, so the
 * templates pass through a Pod here. Arrays merge by position unless
 * {@code kubernetes.operator.pod-template.merge-arrays-by-name} is true (the operator's config or the
 * deployment's {@code flinkConfiguration}), then by their elements' {@code name}.
 *
 * <p>Not modelled: {@code applyResourceToPodTemplate}, which only adds {@code ephemeral-storage} when a
 * component's {@code resource.ephemeralStorage} is set (these manifests set none).
 */
final class OperatorPods {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OperatorPods() {}

    /** How the operator merges arrays for {@code deployment}: its {@code flinkConfiguration}, else the operator's default. */
    static boolean mergesArraysByName(FlinkDeployment deployment) {
        return Configuration.fromMap(deployment.getSpec().getFlinkConfiguration())
                .get(KubernetesOperatorConfigOptions.POD_TEMPLATE_MERGE_BY_NAME);
    }

    /** The JobManager's template as the operator writes it to {@code kubernetes.pod-template-file.jobmanager}. */
    static PodTemplateSpec jobManager(FlinkDeployment deployment, boolean mergeArraysByName) {
        var jobManager = deployment.getSpec().getJobManager();
        Pod merged = merge(deployment.getSpec().getPodTemplate(), jobManager == null ? null : jobManager.getPodTemplate(), mergeArraysByName);
        if (merged == null) {
            merged = new Pod();
        }
        FlinkUtils.addStartupProbe(merged);
        return template(merged);
    }

    /** The TaskManager's template as the operator writes it to {@code kubernetes.pod-template-file.taskmanager}. */
    static PodTemplateSpec taskManager(FlinkDeployment deployment, boolean mergeArraysByName) {
        var taskManager = deployment.getSpec().getTaskManager();
        return template(merge(deployment.getSpec().getPodTemplate(), taskManager == null ? null : taskManager.getPodTemplate(), mergeArraysByName));
    }

    private static Pod merge(PodTemplateSpec common, PodTemplateSpec component, boolean mergeArraysByName) {
        return FlinkUtils.mergePodTemplates(pod(common), pod(component), mergeArraysByName);
    }

    private static Pod pod(PodTemplateSpec template) {
        return template == null ? null : JSON.convertValue(template, Pod.class);
    }

    private static PodTemplateSpec template(Pod pod) {
        if (pod == null) {
            return null;
        }
        PodTemplateSpec template = new PodTemplateSpec();
        template.setMetadata(pod.getMetadata());
        template.setSpec(pod.getSpec());
        return template;
    }
}
