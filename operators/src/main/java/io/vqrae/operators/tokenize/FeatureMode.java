package io.vqrae.operators.tokenize;

import java.util.Locale;

/** Which semantic features the tokenizer emits next to the token ids. */
public enum FeatureMode {
    /** Every token's feature, [num_tokens, feature_dim]. */
    PER_TOKEN,
    /** The mean over tokens, [feature_dim]: one vector per image. */
    POOLED,
    /** No features; only token records are written. */
    OFF;

    /** The configuration spelling: {@code per-token}, {@code pooled}, {@code off}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses {@code per-token|pooled|off}; the error lists the accepted names. */
    public static FeatureMode parse(String name) {
        for (FeatureMode mode : values()) {
            if (mode.configName().equalsIgnoreCase(name.trim())) {
                return mode;
            }
        }
        throw new IllegalArgumentException("Unknown feature mode '" + name + "'; expected per-token, pooled or off");
    }
}
