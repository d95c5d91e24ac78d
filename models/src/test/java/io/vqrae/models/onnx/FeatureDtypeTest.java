package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.platform.Fp16Conversions;
import org.junit.jupiter.api.Test;

/** Expected bytes below were produced by numpy (float16) and PyTorch (bfloat16). */
class FeatureDtypeTest {
    @Test
    void float16RoundsToNearestEvenLikeNumpy() {
        // numpy: float32([1/3, 65520, 1e-7, -2.5]).astype(float16).view(uint16) -> 0x3555 0x7c00 0x0002 0xc100
        byte[] bytes = FeatureDtype.FLOAT16.encode(new float[] {1f / 3, 65520f, 1e-7f, -2.5f}, 0, 4);
        assertThat(bytes).containsExactly(0x55, 0x35, 0x00, 0x7c, 0x02, 0x00, 0x00, 0xc1);
    }

    @Test
    void float16AgreesWithOnnxRuntimesConversionBitForBit() {
        // Every float around each boundary of the conversion (zero, the subnormal/normal edge, the overflow
        // edge, infinity), then a sweep of all bit patterns in steps of 251, both signs.
        int[] edges = {0, 0x33000000, 0x387fc000, 0x38800000, 0x477fe000, 0x477ff000, 0x47800000, 0x7f800000};
        for (int edge : edges) {
            for (int bits = Math.max(0, edge - 70_000); bits <= Math.min(0x7f800000, edge + 70_000); bits++) {
                assertSameFloat16(bits);
                assertSameFloat16(bits | 0x80000000);
            }
        }
        for (long bits = 0; bits <= 0x7f800000L; bits += 251) {
            assertSameFloat16((int) bits);
            assertSameFloat16((int) bits | 0x80000000);
        }
        assertThat(FeatureDtype.toFloat16(Float.NaN)).isEqualTo((short) 0x7e00);
        assertThat(FeatureDtype.toFloat16(Float.intBitsToFloat(0xffc00001))).isEqualTo((short) 0xfe00);
    }

    private static void assertSameFloat16(int bits) {
        float value = Float.intBitsToFloat(bits);
        short expected = Fp16Conversions.floatToFp16(value);
        short actual = FeatureDtype.toFloat16(value);
        if (actual != expected) {
            throw new AssertionError(String.format("float bits 0x%08x (%s): float16 0x%04x, ONNX Runtime says 0x%04x",
                    bits, value, actual & 0xffff, expected & 0xffff));
        }
    }

    @Test
    void bfloat16RoundsToNearestEvenLikeTorch() {
        // torch: bit patterns 0x3f808000 (tie, even down), 0x3f818000 (tie, up), 0x3f808001 -> 0x3f80 0x3f82 0x3f81
        float[] values = {Float.intBitsToFloat(0x3f808000), Float.intBitsToFloat(0x3f818000), Float.intBitsToFloat(0x3f808001)};
        assertThat(FeatureDtype.BFLOAT16.encode(values, 0, 3)).containsExactly(0x80, 0x3f, 0x82, 0x3f, 0x81, 0x3f);
    }

    @Test
    void float32IsLittleEndianAndRespectsTheRange() {
        assertThat(FeatureDtype.FLOAT32.encode(new float[] {9f, 1f, 9f}, 1, 1)).containsExactly(0x00, 0x00, 0x80, 0x3f);
    }

}
