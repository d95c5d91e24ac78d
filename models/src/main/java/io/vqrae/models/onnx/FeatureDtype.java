package io.vqrae.models.onnx;

import ai.onnxruntime.platform.Fp16Conversions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/** The number format semantic features are written in; always little-endian. */
public enum FeatureDtype {
    FLOAT32(4),
    /** IEEE 754 half precision, round to nearest even (what {@code numpy.float16} and PyTorch produce). */
    FLOAT16(2),
    /** bfloat16, round to nearest even (what {@code torch.bfloat16} produces). */
    BFLOAT16(2);

    private final int bytesPerValue;

    FeatureDtype(int bytesPerValue) {
        this.bytesPerValue = bytesPerValue;
    }

    public int bytesPerValue() {
        return bytesPerValue;
    }

    /** The name written into records and read by trainers: {@code float32}, {@code float16}, {@code bfloat16}. */
    public String avroName() {
        return name().toLowerCase(Locale.ROOT);
    }


    /** Encodes {@code values[offset, offset+length)} little-endian in this format. */
    public byte[] encode(float[] values, int offset, int length) {
        ByteBuffer out = ByteBuffer.allocate(length * bytesPerValue).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = offset; i < offset + length; i++) {
            switch (this) {
                case FLOAT32 -> out.putFloat(values[i]);
                case FLOAT16 -> out.putShort(Fp16Conversions.floatToFp16(values[i]));
                case BFLOAT16 -> out.putShort(Fp16Conversions.floatToBf16(values[i]));
            }
        }
        return out.array();
    }
}
