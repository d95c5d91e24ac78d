package io.vqrae.pipeline.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.vqrae.models.config.InvalidSettingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.util.TimeUtils;

/**
 * Binds YAML and dotted-key overrides into {@link JobConfig} with Jackson: the defaults as a tree, the user's
 * tree merged over them, the result bound into the records with unknown keys refused. Jackson and the
 * records do the parsing and checking; this class only turns their failures into a {@link ConfigException}
 * that names the dotted key.
 */
final class ConfigBinding {
    /**
     * Keys whose value is a map of free-form names: everything after them is one name (a Kafka property, a
     * Flink S3 setting such as {@code s3.path.style.access}).
     */
    private static final Set<String> MAP_KEYS = Set.of("kafka.properties", "s3");

    private static final ObjectMapper YAML = YAMLMapper.builder()
            // YAML 1.1 reads `mode: off` as false; only true and false are booleans here (as in YAML 1.2).
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .addModule(new SimpleModule("durations")
                    .addDeserializer(Duration.class, new DurationDeserializer())
                    .addSerializer(Duration.class, new DurationSerializer()))
            .build();

    private ConfigBinding() {}

    /** The YAML file as a tree; null when it is empty. */
    static JsonNode readFile(Path file) {
        try {
            JsonNode root = YAML.readTree(Files.readString(file));
            if (root == null || root.isMissingNode() || root.isNull()) {
                return null;
            }
            if (!root.isObject()) {
                throw new ConfigException("(root)", file + " must hold a mapping of keys");
            }
            return root;
        } catch (JsonProcessingException e) {
            // One line, as every error a person sees: the parser's message runs over several, with a snippet.
            String problem = e.getOriginalMessage().lines().findFirst().orElse("");
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException("(file)", file + " is not valid YAML" + where + ": " + problem);
        } catch (IOException e) {
            throw new ConfigException("(file)", "cannot read " + file + " (" + e + ")");
        }
    }

    /** The defaults, with {@code file} (may be null) and then {@code overrides} merged over them, bound. */
    static JobConfig bind(JsonNode file, Map<String, String> overrides) {
        ObjectNode tree = YAML.valueToTree(JobConfig.DEFAULTS);
        if (file != null) {
            merge(tree, file);
        }
        overrides.forEach((key, value) -> put(tree, key, value));
        try {
            return YAML.treeToValue(tree, JobConfig.class);
        } catch (JsonMappingException e) {
            throw explain(e);
        } catch (JsonProcessingException e) {
            throw new ConfigException("(config)", e.getOriginalMessage());
        }
    }

    /** Merges {@code update} into {@code target}: mappings key by key, anything else replaced. */
    private static void merge(ObjectNode target, JsonNode update) {
        for (Iterator<Map.Entry<String, JsonNode>> it = update.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            JsonNode existing = target.get(entry.getKey());
            if (existing instanceof ObjectNode object && entry.getValue().isObject()) {
                merge(object, entry.getValue());
            } else {
                target.set(entry.getKey(), entry.getValue());
            }
        }
    }

    /**
     * Sets dotted {@code key} to {@code value}: a YAML flow list when it starts with {@code [} ({@code [0, 1]}),
     * else the string as it is, which Jackson converts to the key's type ({@code 16}, {@code true}, {@code lz4}).
     * Strings are not parsed as YAML so values such as a JAAS config arrive unchanged.
     */
    private static void put(ObjectNode tree, String key, String value) {
        JsonNode parsed;
        if (value.trim().startsWith("[")) {
            try {
                parsed = YAML.readTree(value);
            } catch (JsonProcessingException e) {
                throw new ConfigException(key, "is not a list like [0, 1]: " + e.getOriginalMessage());
            }
        } else {
            parsed = YAML.getNodeFactory().textNode(value.trim());
        }
        List<String> path = new ArrayList<>();
        String mapKey = MAP_KEYS.stream().filter(k -> key.startsWith(k + ".")).findFirst().orElse(null);
        if (mapKey == null) {
            path.addAll(List.of(key.split("\\.")));
        } else {
            path.addAll(List.of(mapKey.split("\\.")));
            path.add(key.substring(mapKey.length() + 1));
        }
        ObjectNode node = tree;
        for (String name : path.subList(0, path.size() - 1)) {
            node = node.get(name) instanceof ObjectNode object ? object : node.putObject(name);
        }
        node.set(path.get(path.size() - 1), parsed);
    }

    private static ConfigException explain(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        if (e instanceof UnrecognizedPropertyException unknown) {
            return new ConfigException(path, "unknown key (known here: " + unknown.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", ")) + "; see docs/pipeline.md)");
        }
        if (e instanceof ValueInstantiationException && e.getCause() instanceof InvalidSettingException invalid) {
            return new ConfigException(path.isEmpty() ? invalid.setting() : path + "." + invalid.setting(), invalid.problem());
        }
        if (e instanceof InvalidFormatException format && format.getTargetType() != null && format.getTargetType().isEnum()) {
            return new ConfigException(path, "must be one of " + Arrays.stream(format.getTargetType().getEnumConstants())
                    .map(c -> YAML.convertValue(c, String.class).toLowerCase(Locale.ROOT)).toList()
                    + ", got '" + format.getValue() + "'");
        }
        if (e instanceof InvalidFormatException format) {
            return new ConfigException(path, "must be " + describe(format.getTargetType()) + ", got '" + format.getValue() + "'");
        }
        if (e instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
            return new ConfigException(path, "must be " + describe(mismatch.getTargetType()));
        }
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return new ConfigException(path.isEmpty() ? "(config)" : path,
                cause instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(cause.getMessage()));
    }

    private static String describe(Class<?> type) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "an integer";
        }
        if (type == double.class || type == Double.class) {
            return "a number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == Duration.class) {
            return "a duration like 50ms, 10s, 5m or 1h";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a list like [0, 1]";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "a mapping of keys";
        }
        return "a " + type.getSimpleName();
    }

    /** Durations as Flink writes them ({@code 50ms}, {@code 10s}, {@code 5m}, {@code 1h}), parsed by Flink's {@link TimeUtils}. */
    private static final class DurationDeserializer extends StdScalarDeserializer<Duration> {
        private static final long serialVersionUID = 1L;

        DurationDeserializer() {
            super(Duration.class);
        }

        @Override
        public Duration deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            String text = parser.getValueAsString();
            if (text == null) {
                return (Duration) context.handleUnexpectedToken(Duration.class, parser);
            }
            try {
                return TimeUtils.parseDuration(text);
            } catch (RuntimeException e) {
                throw context.weirdStringException(text, Duration.class, "not a duration like 50ms, 10s, 5m or 1h");
            }
        }
    }

    /** Writes the defaults' durations in the form the deserializer reads. */
    private static final class DurationSerializer extends StdScalarSerializer<Duration> {
        private static final long serialVersionUID = 1L;

        DurationSerializer() {
            super(Duration.class);
        }

        @Override
        public void serialize(Duration value, JsonGenerator generator, SerializerProvider provider) throws IOException {
            generator.writeString(value.toMillis() + "ms");
        }
    }
}
