package io.vqrae.models.preprocess;

import java.util.Locale;

/** How an image is fitted to the model's input size. */
public enum CropMode {
    /** Resize straight to height x width, ignoring the aspect ratio. */
    NONE,
    /**
     * torchvision {@code Resize(max(H, W))} then {@code CenterCrop((H, W))}: the shorter side is
     * resized to {@code max(H, W)}, the longer one to {@code int(S * long / short)}, and the crop
     * offsets are {@code int(round((size - crop) / 2.0))} (Python's round, half to even).
     */
    CENTER;


    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
