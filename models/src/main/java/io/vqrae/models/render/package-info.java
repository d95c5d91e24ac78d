/** Pictures for people: the model's images and the codebook's usage as PNGs. */
package io.vqrae.models.render;
