package io.vqrae.models.config;

/**
 * A setting of a configuration record is out of range or inconsistent. Thrown by the records' own
 * constructors, so a value is checked wherever the record is made (a YAML file, the command line, a test);
 * {@link #setting()} is the key in configuration spelling, relative to the record ({@code max-size}), which
 * the configuration loader prefixes with the record's own path ({@code batching.max-size}).
 */
public final class InvalidSettingException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String setting;
    private final String problem;

    public InvalidSettingException(String setting, String problem) {
        super(setting + ": " + problem);
        this.setting = setting;
        this.problem = problem;
    }

    /** The key at fault, relative to the record that refused it, e.g. {@code max-size}. */
    public String setting() {
        return setting;
    }

    /** What is wrong with it, without the key. */
    public String problem() {
        return problem;
    }

    /** Fails naming {@code setting} unless {@code min <= value <= max}. */
    public static long requireBetween(String setting, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InvalidSettingException(setting, "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    /** Fails naming {@code setting} when {@code value} is null or blank. */
    public static String requireNonBlank(String setting, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidSettingException(setting, "must not be empty");
        }
        return value;
    }

    /** Fails naming {@code setting} when {@code value} is null. */
    public static <T> T requireSet(String setting, T value) {
        if (value == null) {
            throw new InvalidSettingException(setting, "must be set");
        }
        return value;
    }
}
