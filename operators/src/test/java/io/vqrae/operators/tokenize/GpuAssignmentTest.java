package io.vqrae.operators.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.junit.jupiter.api.Test;

/** GPUs per slot from the infos Flink's GPU driver gives a TaskManager (faked: no GPU here). */
class GpuAssignmentTest {

    /** What Flink's GPU driver reports for one GPU. */
    private record FakeGpu(Map<String, String> properties) implements ExternalResourceInfo {
        static FakeGpu index(String index) {
            return new FakeGpu(Map.of("index", index));
        }

        @Override
        public Optional<String> getProperty(String key) {
            return Optional.ofNullable(properties.get(key));
        }

        @Override
        public Collection<String> getKeys() {
            return properties.keySet();
        }
    }

    @Test
    void eachSlotTakesTheLeastHeldGpuOfItsTaskManagerAndGivesItBack() {
        List<ExternalResourceInfo> gpus = List.of(FakeGpu.index("5"), FakeGpu.index("3"));
        try (GpuAssignment.Lease first = GpuAssignment.acquire(gpus); GpuAssignment.Lease second = GpuAssignment.acquire(gpus)) {
            assertThat(List.of(first.device(), second.device())).containsExactly(3, 5);
            try (GpuAssignment.Lease third = GpuAssignment.acquire(gpus)) {
                assertThat(third.device()).as("more slots than GPUs: shared, lowest ordinal first").isEqualTo(3);
            }
            first.close();
            first.close();
            try (GpuAssignment.Lease again = GpuAssignment.acquire(gpus)) {
                assertThat(again.device()).as("the GPU a closed subtask gave back").isEqualTo(3);
            }
        }
        try (GpuAssignment.Lease fresh = GpuAssignment.acquire(gpus)) {
            assertThat(fresh.device()).as("every lease returned").isEqualTo(3);
        }
    }

    @Test
    void aGpuHeldTwiceIsCountedWhileItIs() {
        List<ExternalResourceInfo> oneGpu = List.of(FakeGpu.index("0"));
        try (GpuAssignment.Lease first = GpuAssignment.acquire(oneGpu)) {
            assertThat(first.holders()).isEqualTo(1);
            try (GpuAssignment.Lease second = GpuAssignment.acquire(oneGpu)) {
                assertThat(second.device()).isEqualTo(first.device());
                assertThat(List.of(first.holders(), second.holders())).as("both see the GPU shared").containsExactly(2, 2);
            }
            assertThat(first.holders()).isEqualTo(1);
        }
    }

    @Test
    void infosWithoutAnOrdinalAreRefusedByName() {
        assertThatThrownBy(() -> GpuAssignment.acquire(List.of(new FakeGpu(Map.of("uuid", "GPU-1")))))
                .hasMessage("A 'gpu' external resource without an 'index' property (keys [uuid])");
        assertThatThrownBy(() -> GpuAssignment.acquire(List.of(FakeGpu.index("first"))))
                .hasMessage("A 'gpu' external resource with index 'first', not a GPU ordinal");
        assertThatThrownBy(() -> GpuAssignment.acquire(List.of()))
                .hasMessage("This TaskManager was given no 'gpu' external resource");
    }
}
