package io.vqrae.pipeline.config;

import java.util.AbstractMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An unmodifiable copy of a map whose {@link #toString} names the keys and hides the values: Kafka client
 * properties hold passwords and JAAS configurations, and a record's generated {@code toString} (logged, printed in
 * errors) shows its components. Equal to any map with the same entries.
 */
final class HiddenValues extends AbstractMap<String, String> {
    private final Map<String, String> entries;

    private HiddenValues(Map<String, String> entries) {
        this.entries = Map.copyOf(entries);
    }

    static Map<String, String> copyOf(Map<String, String> map) {
        return map instanceof HiddenValues hidden ? hidden : new HiddenValues(map);
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return entries.entrySet();
    }

    @Override
    public String get(Object key) {
        return entries.get(key);
    }

    /** {@code {sasl.jaas.config=[hidden], security.protocol=[hidden]}}, keys sorted. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("{");
        for (String key : new TreeSet<>(entries.keySet())) {
            out.append(out.length() == 1 ? "" : ", ").append(key).append("=[hidden]");
        }
        return out.append('}').toString();
    }
}
