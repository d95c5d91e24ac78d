package io.vqrae.pipeline.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Flat dotted-key view of a configuration (YAML tree plus command-line overrides) that hands out typed
 * values with defaults and remembers which keys were read, so keys nobody reads (typos) are reported by
 * name instead of being silently ignored.
 */
final class Settings {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

    private final Map<String, String> values;
    private final Set<String> read = new HashSet<>();

    Settings(Map<String, String> values) {
        this.values = new TreeMap<>(values);
    }

    String string(String key, String defaultValue) {
        read.add(key);
        String value = values.get(key);
        return value == null ? defaultValue : value.trim();
    }

    String nonBlank(String key, String defaultValue) {
        String value = string(key, defaultValue);
        if (value == null || value.isEmpty()) {
            throw new ConfigException(key, "must not be empty");
        }
        return value;
    }

    int integer(String key, int defaultValue, int min) {
        return integer(key, defaultValue, min, Integer.MAX_VALUE);
    }

    int integer(String key, int defaultValue, int min, int max) {
        return (int) longValue(key, defaultValue, min, max);
    }

    long longValue(String key, long defaultValue, long min, long max) {
        String value = string(key, null);
        if (value == null) {
            return defaultValue;
        }
        long parsed = parseLong(key, value);
        if (parsed < min || parsed > max) {
            throw new ConfigException(key, "must be between " + min + " and " + max + ", got " + value);
        }
        return parsed;
    }

    /** A comma-separated list of integers, each at least {@code min}; YAML lists arrive in this form. */
    List<Integer> integers(String key, List<Integer> defaultValue, int min) {
        String value = string(key, null);
        if (value == null) {
            return defaultValue;
        }
        List<Integer> out = new ArrayList<>();
        for (String item : value.split(",", -1)) {
            long parsed = parseLong(key, item.trim());
            if (parsed < min || parsed > Integer.MAX_VALUE) {
                throw new ConfigException(key, "every entry must be between " + min + " and " + Integer.MAX_VALUE + ", got " + value);
            }
            out.add((int) parsed);
        }
        return List.copyOf(out);
    }

    boolean bool(String key, boolean defaultValue) {
        String value = string(key, null);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigException(key, "must be true or false, got '" + value + "'");
        };
    }

    /** A positive duration written as {@code <n>ms|s|m|h}, e.g. {@code 50ms}, {@code 10s}, up to about 24 days. */
    Duration duration(String key, Duration defaultValue) {
        String value = string(key, null);
        if (value == null) {
            return defaultValue;
        }
        Matcher m = DURATION.matcher(value);
        if (!m.matches()) {
            throw new ConfigException(key, "must be a duration like 50ms, 10s, 5m or 1h, got '" + value + "'");
        }
        long millisPerUnit = switch (m.group(2)) {
            case "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            default -> 3_600_000;
        };
        // Bounded by an int of milliseconds: Kafka's *.ms settings are ints, and a timer deadline of now plus
        // the duration must not overflow.
        long millis;
        try {
            millis = Math.multiplyExact(Long.parseLong(m.group(1)), millisPerUnit);
        } catch (NumberFormatException | ArithmeticException e) {
            millis = Long.MAX_VALUE;
        }
        if (millis > Integer.MAX_VALUE) {
            throw new ConfigException(key, "must be at most " + Integer.MAX_VALUE + "ms (about 24 days), got '" + value + "'");
        }
        if (millis == 0) {
            throw new ConfigException(key, "must be > 0");
        }
        return Duration.ofMillis(millis);
    }

    /** A value parsed by {@code parser}, whose {@link IllegalArgumentException} message becomes the error. */
    <T> T parsed(String key, String defaultValue, Function<String, T> parser) {
        String value = string(key, defaultValue);
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, e.getMessage());
        }
    }

    /** Every key under {@code prefix.}, prefix removed: the pass-through client properties. */
    Map<String, String> withPrefix(String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        String dotted = prefix + ".";
        values.forEach((k, v) -> {
            if (k.startsWith(dotted)) {
                read.add(k);
                out.put(k.substring(dotted.length()), v);
            }
        });
        return out;
    }

    /** Fails naming the first key that was set but never read. */
    void requireAllRead() {
        for (String key : values.keySet()) {
            if (!read.contains(key)) {
                throw new ConfigException(key, "unknown key (see docs/pipeline.md for the keys and their defaults)");
            }
        }
    }

    private static long parseLong(String key, String value) {
        try {
            return Long.parseLong(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new ConfigException(key, "must be an integer, got '" + value + "'");
        }
    }
}
