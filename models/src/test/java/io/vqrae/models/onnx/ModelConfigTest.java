package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.testing.TestPaths;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
    /** The shipped tiny model on CUDA, GPUs as Flink assigns them. */
    private static final ModelConfig CUDA = ModelConfig.DEFAULT.withProvider(ExecutionProvider.CUDA);

    @Test
    void sessionSlotsTakeTheDevicesInTurn() {
        ModelConfig config = CUDA.withDeviceIds(List.of(2, 0, 1));
        assertThat(List.of(0, 1, 2, 3, 4, 5))
                .map(slot -> config.session(TestPaths.tinyManifest(), slot).deviceId())
                .containsExactly(2, 0, 1, 2, 0, 1);
    }

    @Test
    void withoutDeviceIdsGpusComeFromFlinkAndSessionsStartOnOrdinalZero() {
        ModelConfig cuda = CUDA;
        assertThat(cuda.gpusFromFlink()).isTrue();
        assertThat(cuda.session(TestPaths.tinyManifest(), 3).deviceId()).isZero();
        assertThat(cuda.session(TestPaths.tinyManifest(), 3).onDevice(5).deviceId()).isEqualTo(5);
        assertThat(ModelConfig.DEFAULT.gpusFromFlink()).isFalse();
        assertThat(CUDA.withDeviceIds(List.of(1)).gpusFromFlink()).isFalse();
    }

    @Test
    void badValuesNameTheirSetting() {
        assertThatThrownBy(() -> ModelConfig.DEFAULT.withDeviceIds(List.of(0, -1)))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("device-ids:");
        assertThatThrownBy(() -> ModelConfig.DEFAULT.withDir(" "))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("dir:");
        assertThatThrownBy(() -> ModelConfig.DEFAULT.withIntraOpThreads(-1))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("intra-op-threads:");
        assertThat(ModelConfig.DEFAULT.withIntraOpThreads(0).intraOpThreads()).isZero();
        assertThatThrownBy(() -> CUDA.withGpuMemLimitBytes(-1))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("gpu-mem-limit-bytes:");
    }

    @Test
    void everySessionOfTheJobGetsTheCudaArenaLimit() {
        ModelConfig limited = CUDA.withGpuMemLimitBytes(20L << 30);
        assertThat(limited.session(TestPaths.tinyManifest(), 1).onDevice(3).gpuMemLimitBytes()).isEqualTo(20L << 30);
    }
}
