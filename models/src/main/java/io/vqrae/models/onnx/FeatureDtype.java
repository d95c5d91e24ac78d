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
                    SHORT_LE.set(out, i * 2, toFloat16(values[offset + i]));
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

    /**
     * IEEE 754 half precision, round to nearest even; NaN becomes the canonical quiet NaN. Java 17 has no
     * {@code Float.floatToFloat16} (Java 20), and ONNX Runtime's {@code Fp16Conversions.floatToFp16} is slower (a
     * so400m image's features: 0.59 against 0.45 ms); this is the bit-level conversion of F. Giesen's
     * "float_to_half_fast3_rtne", checked bit for bit against ONNX Runtime's around every boundary of the
     * conversion and on a sweep of all other float32 values in FeatureDtypeTest.
     */
    static short toFloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int magnitude = bits & 0x7fffffff;
        int half;
        if (magnitude >= 0x47800000) {
            // 65536 and above round to infinity (65520..65535 get there through the rounding below).
            half = magnitude > 0x7f800000 ? 0x7e00 : 0x7c00;
        } else if (magnitude < 0x38800000) {
            // Below 2^-14 the result is subnormal: adding 0.5f lines the bits up, and the float addition rounds.
            half = Float.floatToRawIntBits(Float.intBitsToFloat(magnitude) + 0.5f) - 0x3f000000;
        } else {
            int mantissaOdd = (magnitude >>> 13) & 1;
            half = (magnitude + ((15 - 127) << 23) + 0xfff + mantissaOdd) >>> 13;
        }
        return (short) (half | sign);
    }

    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
}
