package io.vqrae.pipeline.storage;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.vqrae.models.config.InvalidSettingException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Flink's own {@code s3.*} filesystem settings, as a Flink user writes them in the Flink configuration
 * ({@code s3.endpoint}, {@code s3.path.style.access}, {@code s3.access-key}, {@code s3.secret-key}, and any other
 * {@code s3.*} key, which Flink's S3 plugin hands to Hadoop's S3A as {@code fs.s3a.*}). A local run configures
 * its filesystems with them ({@link ObjectStores}); a cluster's processes read theirs from the cluster's Flink
 * configuration. Without credentials here, S3A takes them from {@code AWS_ACCESS_KEY_ID} /
 * {@code AWS_SECRET_ACCESS_KEY} or the instance's role.
 *
 * @param settings the keys after {@code s3.}, with their values
 */
public record S3Settings(@JsonValue Map<String, String> settings) {
    public static final S3Settings NONE = new S3Settings(Map.of());

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public S3Settings {
        settings = Map.copyOf(InvalidSettingException.requireSet("s3", settings));
        settings.forEach((key, value) -> InvalidSettingException.requireNonBlank(key, value));
    }

    /** The endpoint the settings name, or a description of S3A's default (AWS, by region). */
    public String endpoint() {
        return settings.getOrDefault("endpoint", "AWS's default endpoint");
    }

    /** The values hidden: credentials are among them. */
    @Override
    public String toString() {
        Map<String, String> hidden = new TreeMap<>();
        settings.keySet().forEach(key -> hidden.put(key, "endpoint".equals(key) ? settings.get(key) : "[hidden]"));
        return "S3Settings" + hidden;
    }
}
