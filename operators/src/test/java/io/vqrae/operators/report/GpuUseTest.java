package io.vqrae.operators.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** GPU time counts each device once however many sessions hold it, and stops with the last hold. */
class GpuUseTest {
    @Test
    void aDeviceCountsOnceForTwoSessions_twoDevicesTwice_nothingOnceReleased() throws Exception {
        GpuUse.Hold a = GpuUse.hold(7);
        GpuUse.Hold b = GpuUse.hold(7);
        GpuUse.Hold c = GpuUse.hold(8);

        long outerStart = System.nanoTime();
        double before = GpuUse.seconds();
        Thread.sleep(200);
        double after = GpuUse.seconds();
        double outer = (System.nanoTime() - outerStart) / 1e9;
        // Two devices in use: twice the time between the readings, which lies within the time around them.
        assertThat(after - before).isGreaterThanOrEqualTo(2 * 0.2).isLessThanOrEqualTo(2 * outer);

        a.close();
        b.close();
        b.close(); // a second close releases nothing
        c.close();
        double released = GpuUse.seconds();
        Thread.sleep(50);
        assertThat(GpuUse.seconds()).as("no device held").isEqualTo(released);
    }
}
