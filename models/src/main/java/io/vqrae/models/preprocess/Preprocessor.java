package io.vqrae.models.preprocess;

import io.vqrae.models.image.DecodedImage;
import java.util.Objects;

/**
 * Turns a {@link DecodedImage} into the uint8 {@code [3, H, W]} planar tensor a model expects,
 * identical to Pillow's {@code Image.resize} (and the torchvision-style centre crop) in
 * {@code models/python/vqrae/preprocess.py}. Immutable and thread-safe.
 */
public final class Preprocessor {

    private final PreprocessSpec spec;

    public Preprocessor(PreprocessSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    /** Returns R, G and B planes of {@code spec.height() x spec.width()}, row-major. */
    public byte[] toChw(DecodedImage image) {
        int inW = image.width();
        int inH = image.height();
        int outH = spec.height();
        int outW = spec.width();
        int fullW = outW;
        int fullH = outH;
        int left = 0;
        int top = 0;
        if (spec.crop() == CropMode.CENTER) {
            int size = Math.max(outH, outW);
            // torchvision Resize(int): the longer side is int(size * long / short), computed in double.
            if (inW <= inH) {
                fullW = size;
                fullH = (int) ((double) size * inH / inW);
            } else {
                fullH = size;
                fullW = (int) ((double) size * inW / inH);
            }
            // torchvision CenterCrop: int(round((size - crop) / 2.0)); Math.rint rounds half to even like Python.
            top = (int) Math.rint((fullH - outH) / 2.0);
            left = (int) Math.rint((fullW - outW) / 2.0);
        }
        return Resampler.resizeToChw(image.rgb(), inW, inH, fullW, fullH, left, top, outW, outH, spec.filter());
    }
}
