package io.vqrae.models.onnx;

import ai.onnxruntime.platform.Fp16Conversions;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
        byte[] out = new byte[length * bytesPerValue];
        // One loop per format, writing the array directly: a so400m image has 295k values, and a switch or a
        // ByteBuffer call per value costs a core at GPU rates.
        switch (this) {
            case FLOAT32 -> {
                for (int i = 0; i < length; i++) {
                    INT_LE.set(out, i * 4, Float.floatToRawIntBits(values[offset + i]));
                }
            }
            case FLOAT16 -> {
                for (int i = 0; i < length; i++) {
                    SHORT_LE.set(out, i * 2, Fp16Conversions.floatToFp16(values[offset + i]));
                }
            }
            case BFLOAT16 -> {
                for (int i = 0; i < length; i++) {
                    SHORT_LE.set(out, i * 2, Fp16Conversions.floatToBf16(values[offset + i]));
                }
            }
        }
        return out;
    }

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
}
