package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.vqrae.pipeline.config.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;

/** The manifests of deploy/k8s as YAML trees, and those trees bound into the model classes of their kinds. */
final class Manifests {
    static final Path ROOT = Path.of(System.getProperty("vqrae.root", "..")).toAbsolutePath().normalize();
    static final Path DEPLOY = ROOT.resolve("deploy");
    static final Path K8S = DEPLOY.resolve("k8s");

    private static final ObjectMapper YAML = new YAMLMapper();

    /**
     * Serializes model objects without what their any-setters caught: the Kubernetes model classes (fabric8's,
     * Strimzi's) keep a key they do not know in {@code additionalProperties} instead of refusing it, so a
     * misspelt key would otherwise bind without a word.
     */
    private static final ObjectMapper KNOWN_FIELDS_ONLY = YAMLMapper.builder()
            .annotationIntrospector(new JacksonAnnotationIntrospector() {
                private static final long serialVersionUID = 1L;

                @Override
                public Boolean hasAnyGetter(Annotated a) {
                    return false;
                }
            })
            .build();

    private Manifests() {}

    /** Every document of a (multi-document) YAML file under deploy/k8s. */
    static List<JsonNode> documents(String file) {
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(K8S.resolve(file).toFile())) {
            while (it.hasNext()) {
                JsonNode document = it.next();
                if (document != null && !document.isNull() && !document.isMissingNode()) {
                    documents.add(document);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return documents;
    }

    /** The documents of {@code kind} in {@code file}. */
    static List<JsonNode> ofKind(String file, String kind) {
        return documents(file).stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    /** The one document of {@code kind} in {@code file}. */
    static JsonNode one(String file, String kind) {
        List<JsonNode> found = ofKind(file, kind);
        assertThat(found).as("%s documents in %s", kind, file).hasSize(1);
        return found.get(0);
    }

    /**
     * The FlinkDeployment of flink-deployment.yaml bound into operator 1.10's model, and its
     * {@code spec.flinkVersion} as written, which 1.10's enum (up to v1_20) cannot hold: DeployManifestsTest checks
     * it against operator 1.13's CRD.
     */
    record Deployment(FlinkDeployment resource, String flinkVersion) {}

    static Deployment flinkDeployment() {
        ObjectNode tree = one("flink-deployment.yaml", "FlinkDeployment").deepCopy();
        String flinkVersion = ((ObjectNode) tree.get("spec")).remove("flinkVersion").asText();
        return new Deployment(bind(tree, FlinkDeployment.class), flinkVersion);
    }

    /** The job's configuration in entry {@code key} of ConfigMap {@code configMap}, bound by the job's own JobConfig. */
    static JobConfig jobConfig(ConfigMap configMap, String key, Path tmp) {
        Path file = tmp.resolve(key);
        try {
            Files.writeString(file, configMap.getData().get(key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return JobConfig.load(file, Map.of());
    }

    /** {@code document} bound into {@code type}, failing on any key the model class does not have. */
    static <T> T bind(JsonNode document, Class<T> type) {
        T value;
        try {
            value = YAML.treeToValue(document, type);
        } catch (IOException e) {
            throw new AssertionError(document.path("kind").asText() + " " + document.at("/metadata/name").asText()
                    + " does not bind into " + type.getName() + ": " + e.getMessage(), e);
        }
        List<String> unknown = new ArrayList<>();
        collectUnknown(document, KNOWN_FIELDS_ONLY.valueToTree(value), "", unknown);
        assertThat(unknown).as("keys of %s %s that %s does not have", document.path("kind").asText(),
                document.at("/metadata/name").asText(), type.getSimpleName()).isEmpty();
        return value;
    }

    /** Adds the paths of {@code given} that {@code known} (the bound object written back) lacks. */
    private static void collectUnknown(JsonNode given, JsonNode known, String path, List<String> unknown) {
        if (given.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = given.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (known == null || !known.has(field.getKey())) {
                    unknown.add(path + "/" + field.getKey());
                } else {
                    collectUnknown(field.getValue(), known.get(field.getKey()), path + "/" + field.getKey(), unknown);
                }
            }
        } else if (given.isArray() && known != null && known.isArray()) {
            for (int i = 0; i < given.size(); i++) {
                collectUnknown(given.get(i), known.get(i), path + "/" + i, unknown);
            }
        }
    }
}
