/**
 * What a run costs: CPU time by stage from the process's threads ({@link io.vqrae.operators.report.ThreadCpu}), GPU
 * time of the tokenizer sessions ({@link io.vqrae.operators.report.GpuUse}), and the report an operator acts on,
 * CPU-seconds per image by stage and the cost per million images at the configured prices
 * ({@link io.vqrae.operators.report.RunReport}), written by the bounded commands and logged by a streaming job.
 */
package io.vqrae.operators.report;
