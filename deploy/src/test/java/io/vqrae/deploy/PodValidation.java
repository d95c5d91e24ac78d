package io.vqrae.deploy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The Kubernetes API server's checks of a pod spec that the model classes (fabric8's, or the OpenAPI schema they
 * are generated from) cannot express, for the parts of a pod these manifests use: what {@code ValidatePodSpec} in
 * kubernetes/kubernetes {@code pkg/apis/core/validation/validation.go} refuses (its {@code validateVolumes},
 * {@code validateVolumeSource}, {@code validateContainers}, {@code validateContainerPorts}, {@code validateEnv},
 * {@code ValidateVolumeMounts}, {@code ValidateResourceRequirements}, {@code validateTolerations}), with the names
 * of apimachinery's {@code IsDNS1123Label} and {@code IsValidPortName}. The schema says a {@code Volume} may have
 * every source field; the API server accepts exactly one. Errors read as the API server writes them:
 * {@code spec.volumes[0]: Forbidden: may not specify more than 1 volume type}.
 *
 * <p>Hand-written because no Java library carries these rules: they live in the API server's Go code.
 */
final class PodValidation {
    private static final ObjectMapper NON_NULL = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);
    private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern PORT_NAME_CHARS = Pattern.compile("[-a-z0-9]+");
    private static final Pattern HAS_LETTER = Pattern.compile(".*[a-z].*");
    private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP");
    private static final Set<String> TAINT_EFFECTS = Set.of("NoSchedule", "PreferNoSchedule", "NoExecute");
    /** Resources the kubelet itself accounts; every other name with a domain is an extended resource (a device). */
    private static final Set<String> NATIVE = Set.of("cpu", "memory", "ephemeral-storage", "storage");

    private PodValidation() {}

    /**
     * What the API server refuses in {@code spec} at {@code path} ({@code spec} for a pod, {@code
     * spec.template.spec} for a Deployment's).
     */
    static List<String> errors(PodSpec spec, String path) {
        List<String> errors = new ArrayList<>();
        Set<String> volumes = volumes(spec.getVolumes(), path + ".volumes", errors);
        Set<String> containerNames = new HashSet<>();
        containers(spec.getInitContainers(), path + ".initContainers", volumes, containerNames, errors);
        containers(spec.getContainers(), path + ".containers", volumes, containerNames, errors);
        if (spec.getContainers().isEmpty()) {
            errors.add(path + ".containers: Required value");
        }
        List<Toleration> tolerations = spec.getTolerations();
        for (int i = 0; i < tolerations.size(); i++) {
            Toleration toleration = tolerations.get(i);
            String at = path + ".tolerations[" + i + "]";
            if ("Exists".equals(toleration.getOperator()) && toleration.getValue() != null && !toleration.getValue().isEmpty()) {
                errors.add(at + ".operator: Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'");
            }
            if (toleration.getEffect() != null && !TAINT_EFFECTS.contains(toleration.getEffect())) {
                errors.add(at + ".effect: Unsupported value: \"" + toleration.getEffect() + "\"");
            }
        }
        return errors;
    }

    private static Set<String> volumes(List<Volume> volumes, String path, List<String> errors) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < volumes.size(); i++) {
            Volume volume = volumes.get(i);
            String at = path + "[" + i + "]";
            String name = volume.getName();
            if (name == null || name.isEmpty()) {
                errors.add(at + ".name: Required value");
            } else if (!names.add(name)) {
                errors.add(at + ".name: Duplicate value: \"" + name + "\"");
            } else if (!isDns1123Label(name)) {
                errors.add(at + ".name: Invalid value: \"" + name + "\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
            }
            Set<String> sources = sources(volume);
            if (sources.isEmpty()) {
                errors.add(at + ": Required value: must specify a volume type");
            } else if (sources.size() > 1) {
                errors.add(at + ": Forbidden: may not specify more than 1 volume type " + sources);
            }
            if (volume.getPersistentVolumeClaim() != null && isBlank(volume.getPersistentVolumeClaim().getClaimName())) {
                errors.add(at + ".persistentVolumeClaim.claimName: Required value");
            }
            if (volume.getConfigMap() != null && isBlank(volume.getConfigMap().getName())) {
                errors.add(at + ".configMap.name: Required value");
            }
            if (volume.getSecret() != null && isBlank(volume.getSecret().getSecretName())) {
                errors.add(at + ".secret.secretName: Required value");
            }
        }
        return names;
    }

    /** The volume source fields a volume sets: every field of the Volume object but its name. */
    private static Set<String> sources(Volume volume) {
        JsonNode tree = NON_NULL.valueToTree(volume);
        Set<String> sources = new TreeSet<>();
        for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!field.equals("name")) {
                sources.add(field);
            }
        }
        return sources;
    }

    private static void containers(List<Container> containers, String path, Set<String> volumes, Set<String> names, List<String> errors) {
        for (int i = 0; i < containers.size(); i++) {
            Container container = containers.get(i);
            String at = path + "[" + i + "]";
            String name = container.getName();
            if (isBlank(name)) {
                errors.add(at + ".name: Required value");
            } else if (!names.add(name)) {
                errors.add(at + ".name: Duplicate value: \"" + name + "\"");
            } else if (!isDns1123Label(name)) {
                errors.add(at + ".name: Invalid value: \"" + name + "\"");
            }
            ports(container.getPorts(), at + ".ports", errors);
            env(container.getEnv(), at + ".env", errors);
            mounts(container.getVolumeMounts(), at + ".volumeMounts", volumes, errors);
            resources(container.getResources(), at + ".resources", errors);
        }
    }

    private static void ports(List<ContainerPort> ports, String path, List<String> errors) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < ports.size(); i++) {
            ContainerPort port = ports.get(i);
            String at = path + "[" + i + "]";
            if (port.getName() != null && !port.getName().isEmpty()) {
                String problem = portNameProblem(port.getName());
                if (problem != null) {
                    errors.add(at + ".name: Invalid value: \"" + port.getName() + "\": " + problem);
                } else if (!names.add(port.getName())) {
                    errors.add(at + ".name: Duplicate value: \"" + port.getName() + "\"");
                }
            }
            Integer number = port.getContainerPort();
            if (number == null || number < 1 || number > 65535) {
                errors.add(at + ".containerPort: Invalid value: " + number + ": must be between 1 and 65535, inclusive");
            }
            if (port.getProtocol() != null && !PROTOCOLS.contains(port.getProtocol())) {
                errors.add(at + ".protocol: Unsupported value: \"" + port.getProtocol() + "\"");
            }
        }
    }

    private static void env(List<EnvVar> env, String path, List<String> errors) {
        for (int i = 0; i < env.size(); i++) {
            EnvVar variable = env.get(i);
            String at = path + "[" + i + "]";
            if (isBlank(variable.getName())) {
                errors.add(at + ".name: Required value");
            }
            if (variable.getValueFrom() != null) {
                int sources = NON_NULL.valueToTree(variable.getValueFrom()).size();
                if (sources != 1) {
                    errors.add(at + ".valueFrom: Invalid value: \"\": may not have more than one field specified at a time");
                }
                if (variable.getValue() != null && !variable.getValue().isEmpty()) {
                    errors.add(at + ".valueFrom: Invalid value: \"\": may not be specified when `value` is not empty");
                }
            }
        }
    }

    private static void mounts(List<VolumeMount> mounts, String path, Set<String> volumes, List<String> errors) {
        Set<String> paths = new HashSet<>();
        for (int i = 0; i < mounts.size(); i++) {
            VolumeMount mount = mounts.get(i);
            String at = path + "[" + i + "]";
            if (isBlank(mount.getName())) {
                errors.add(at + ".name: Required value");
            } else if (!volumes.contains(mount.getName())) {
                errors.add(at + ".name: Not found: \"" + mount.getName() + "\"");
            }
            if (isBlank(mount.getMountPath())) {
                errors.add(at + ".mountPath: Required value");
            } else if (!paths.add(mount.getMountPath())) {
                errors.add(at + ".mountPath: Invalid value: \"" + mount.getMountPath() + "\": must be unique");
            }
        }
    }

    private static void resources(ResourceRequirements resources, String path, List<String> errors) {
        if (resources == null) {
            return;
        }
        Map<String, Quantity> limits = resources.getLimits();
        Map<String, Quantity> requests = resources.getRequests();
        limits.forEach((name, quantity) -> quantity(name, quantity, path + ".limits[" + name + "]", errors));
        requests.forEach((name, quantity) -> {
            String at = path + ".requests[" + name + "]";
            quantity(name, quantity, at, errors);
            Quantity limit = limits.get(name);
            if (isExtended(name)) {
                if (limit == null) {
                    errors.add(path + ".limits: Required value: Limit must be set for non overcommitable resources");
                } else if (Quantity.getAmountInBytes(quantity).compareTo(Quantity.getAmountInBytes(limit)) != 0) {
                    errors.add(at + ": Invalid value: \"" + quantity + "\": must be equal to " + name + " limit of " + limit);
                }
            } else if (limit != null && Quantity.getAmountInBytes(quantity).compareTo(Quantity.getAmountInBytes(limit)) > 0) {
                errors.add(at + ": Invalid value: \"" + quantity + "\": must be less than or equal to " + name + " limit of " + limit);
            }
        });
    }

    private static void quantity(String name, Quantity quantity, String path, List<String> errors) {
        BigDecimal amount = Quantity.getAmountInBytes(quantity);
        if (amount.signum() < 0) {
            errors.add(path + ": Invalid value: \"" + quantity + "\": must be greater than or equal to 0");
        }
        if (isExtended(name) && amount.stripTrailingZeros().scale() > 0) {
            errors.add(path + ": Invalid value: \"" + quantity + "\": must be an integer");
        }
    }

    /** A resource with a domain other than Kubernetes' own, such as {@code nvidia.com/gpu}: a device, never overcommitted. */
    private static boolean isExtended(String name) {
        return !NATIVE.contains(name) && name.contains("/") && !name.contains("kubernetes.io/") && !name.startsWith("requests.");
    }

    private static boolean isDns1123Label(String value) {
        return value.length() <= 63 && DNS1123_LABEL.matcher(value).matches();
    }

    /** apimachinery's {@code IsValidPortName} (an IANA service name), or null when valid. */
    private static String portNameProblem(String name) {
        if (name.length() > 15) {
            return "must be no more than 15 characters";
        }
        if (!PORT_NAME_CHARS.matcher(name).matches()) {
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        }
        if (name.contains("--")) {
            return "must not contain consecutive hyphens";
        }
        if (name.startsWith("-") || name.endsWith("-")) {
            return "must not begin or end with a hyphen";
        }
        if (!HAS_LETTER.matcher(name).matches()) {
            return "must contain at least one letter (a-z)";
        }
        return null;
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }
}
