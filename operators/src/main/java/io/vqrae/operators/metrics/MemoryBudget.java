package io.vqrae.operators.metrics;

/**
 * A memory budget of this JVM that work reserves from and waits for (the decoders' {@code DecodeMemory}), as the
 * {@code vqrae_decode_memory_*} series read it at scrape time. An interface here so the metrics need not know the
 * decode package, which depends on them.
 */
public interface MemoryBudget {
    /** What the budget holds at most, in bytes. */
    long capacityBytes();

    /** What is reserved now, in bytes. */
    long heldBytes();

    /** Reservations waiting now. */
    int waiting();

    /** Time all reservations spent waiting since the JVM started, in seconds. */
    double waitedSeconds();
}
