/**
 * The tokenizer stage: count- and time-bounded micro-batches of preprocessed images, one ONNX Runtime
 * run per batch, token ids and semantic features out.
 */
package io.vqrae.operators.tokenize;
