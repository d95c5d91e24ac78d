package io.vqrae.models.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.config.InvalidSettingException;
import io.vqrae.models.testing.TestPaths;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    @Test
    void sessionSlotsTakeTheDevicesInTurn() {
        ModelConfig config = new ModelConfig("models/tiny", ExecutionProvider.CUDA, List.of(2, 0, 1), 0, "", 0);
        assertThat(List.of(0, 1, 2, 3, 4, 5))
                .map(slot -> config.session(TestPaths.tinyManifest(), slot).deviceId())
                .containsExactly(2, 0, 1, 2, 0, 1);
    }

    @Test
    void withoutDeviceIdsGpusComeFromFlinkAndSessionsStartOnOrdinalZero() {
        ModelConfig cuda = new ModelConfig("models/tiny", ExecutionProvider.CUDA, List.of(), 0, "", 0);
        assertThat(cuda.gpusFromFlink()).isTrue();
        assertThat(cuda.session(TestPaths.tinyManifest(), 3).deviceId()).isZero();
        assertThat(cuda.session(TestPaths.tinyManifest(), 3).onDevice(5).deviceId()).isEqualTo(5);
        assertThat(new ModelConfig("models/tiny", ExecutionProvider.CPU, List.of(), 0, "", 0).gpusFromFlink()).isFalse();
        assertThat(new ModelConfig("models/tiny", ExecutionProvider.CUDA, List.of(1), 0, "", 0).gpusFromFlink()).isFalse();
    }

    @Test
    void badValuesNameTheirSetting() {
        assertThatThrownBy(() -> new ModelConfig("m", ExecutionProvider.CPU, List.of(0, -1), 0, "", 0))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("device-ids:");
        assertThatThrownBy(() -> new ModelConfig(" ", ExecutionProvider.CPU, List.of(0), 0, "", 0))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("dir:");
        assertThatThrownBy(() -> new ModelConfig("m", ExecutionProvider.CPU, List.of(0), -1, "", 0))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("intra-op-threads:");
        assertThat(new ModelConfig("m", ExecutionProvider.CPU, List.of(0), 0, "", 0).intraOpThreads()).isZero();
        assertThatThrownBy(() -> new ModelConfig("m", ExecutionProvider.CUDA, List.of(), 0, "", -1))
                .isInstanceOf(InvalidSettingException.class).hasMessageStartingWith("gpu-mem-limit-bytes:");
    }

    @Test
    void everySessionOfTheJobGetsTheCudaArenaLimit() {
        ModelConfig limited = new ModelConfig("models/tiny", ExecutionProvider.CUDA, List.of(), 0, "", 20L << 30);
        assertThat(limited.session(TestPaths.tinyManifest(), 1).onDevice(3).gpuMemLimitBytes()).isEqualTo(20L << 30);
    }
}
