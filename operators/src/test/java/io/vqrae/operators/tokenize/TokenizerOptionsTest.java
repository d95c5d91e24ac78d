package io.vqrae.operators.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.models.onnx.ExecutionProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerOptionsTest {

    @Test
    void tokenizerSubtasksTakeTheDevicesInTurn() {
        TokenizerOptions options = TokenizerOptions.builder("models/tiny")
                .provider(ExecutionProvider.CUDA)
                .deviceIds(List.of(2, 0, 1))
                .build();
        assertThat(List.of(0, 1, 2, 3, 4, 5)).map(subtask -> options.sessionConfig(subtask).deviceId())
                .containsExactly(2, 0, 1, 2, 0, 1);
    }

    @Test
    void rejectsNoDevicesANegativeDeviceAndOversizedBatches() {
        assertThatThrownBy(() -> TokenizerOptions.builder("m").deviceIds(List.of()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deviceIds");
        assertThatThrownBy(() -> TokenizerOptions.builder("m").deviceIds(List.of(0, -1)).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("deviceIds");
        assertThatThrownBy(() -> TokenizerOptions.builder("m").maxBatchSize(TokenizerOptions.MAX_BATCH_SIZE + 1).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxBatchSize");
        assertThat(TokenizerOptions.builder("m").maxBatchSize(TokenizerOptions.MAX_BATCH_SIZE).build().maxBatchSize())
                .isEqualTo(TokenizerOptions.MAX_BATCH_SIZE);
    }
}
