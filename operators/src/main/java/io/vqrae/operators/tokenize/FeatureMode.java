package io.vqrae.operators.tokenize;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Which semantic features the tokenizer emits next to the token ids. The {@link JsonProperty} names are the
 * configuration spelling ({@code features.mode: per-token}).
 */
public enum FeatureMode {
    /** Every token's feature, [num_tokens, feature_dim]. */
    @JsonProperty("per-token")
    PER_TOKEN,
    /** The mean over tokens, [feature_dim]: one vector per image. */
    @JsonProperty("pooled")
    POOLED,
    /** No features; only token records are written. */
    @JsonProperty("off")
    OFF
}
