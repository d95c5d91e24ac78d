package io.vqrae.models.image;

import java.util.Objects;

/**
 * A decoded, upright, opaque 8-bit RGB image.
 *
 * <p>The pixel array is not copied (images are large and this record is handed from the decoder
 * straight to the preprocessor); callers must not modify it after construction.
 *
 * @param width  width in pixels, after the EXIF orientation was applied
 * @param height height in pixels, after the EXIF orientation was applied
 * @param rgb    interleaved R, G, B bytes, row-major, {@code width * height * 3} long
 * @param format the container format the bytes were in: "jpeg", "png", "webp", "gif" or "bmp"
 */
public record DecodedImage(int width, int height, byte[] rgb, String format) {

    public DecodedImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width and height must be positive, got " + width + "x" + height);
        }
        Objects.requireNonNull(rgb, "rgb");
        Objects.requireNonNull(format, "format");
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException(
                    "rgb must hold width * height * 3 = " + (long) width * height * 3 + " bytes, got " + rgb.length);
        }
    }
}
