package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
