/** The encode stage: results and rejections to Avro single-object-encoded output records, size-checked for the sink. */
package io.vqrae.operators.encode;
