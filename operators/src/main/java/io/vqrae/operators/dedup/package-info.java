/** Deduplication of inputs by the SHA-256 of their bytes, before they are decoded. */
package io.vqrae.operators.dedup;
