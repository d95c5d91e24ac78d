package io.vqrae.operators.data;

/**
 * A decoded image resized and laid out as the encoder graph takes it.
 *
 * @param id image id
 * @param sha256 lower-case hex SHA-256 of the original encoded bytes
 * @param chw uint8 pixels, [3, H, W] at the model's input size
 * @param origin where the input was read from
 */
public record PreprocessedImage(String id, String sha256, byte[] chw, Origin origin) {}
