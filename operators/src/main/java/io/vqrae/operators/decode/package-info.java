/** The decode stage: encoded image bytes to the model's uint8 input tensor, or a typed rejection. */
package io.vqrae.operators.decode;
