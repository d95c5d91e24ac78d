package io.vqrae.models.preprocess;

import java.io.Serializable;
import java.util.Objects;

/**
 * What a model expects as input: an RGB image of {@code height x width} made with {@code filter}
 * and {@code crop}.
 */
public record PreprocessSpec(int height, int width, ResizeFilter filter, CropMode crop) implements Serializable {
    private static final long serialVersionUID = 1L;


    public PreprocessSpec {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("height and width must be positive, got " + height + "x" + width);
        }
        // The [3, H, W] output is one byte array.
        if ((long) height * width * 3 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("height * width * 3 must fit in an array, got " + height + "x" + width);
        }
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(crop, "crop");
    }
}
