package io.vqrae.operators.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The encoder's busy time over wall time, on a clock the test moves. */
class BusyTimeTest {
    private final AtomicLong now = new AtomicLong(1_000);

    @Test
    void encodesOverTheLastMinute_includingTheOneRunning() {
        BusyTime busy = new BusyTime(now::get);
        assertThat(busy.ratio()).as("nothing happened yet").isZero();
        encode(busy, 3, 1); // 3 s busy, 1 s idle
        assertThat(busy.ratio()).as("3 s of 4 since the subtask opened").isEqualTo(0.75);
        busy.begin();
        advance(4);
        assertThat(busy.ratio()).as("an encode still running counts up to now: 7 s of 8").isEqualTo(7.0 / 8);
        busy.end();
        advance(52); // idle; the window is now exactly the first 60 s
        assertThat(busy.ratio()).isEqualTo(7.0 / 60);
        advance(2); // the window starts 2 s after the first encode began
        assertThat(busy.ratio()).as("only what falls in the last minute").isEqualTo(5.0 / 60);
        advance(60);
        assertThat(busy.ratio()).isZero();
    }

    @Test
    void aSaturatedEncoderIsOne() {
        BusyTime busy = new BusyTime(now::get);
        for (int i = 0; i < 100; i++) {
            encode(busy, 1, 0);
        }
        assertThat(busy.ratio()).isEqualTo(1.0);
    }

    private void encode(BusyTime busy, int busySeconds, int idleSeconds) {
        busy.begin();
        advance(busySeconds);
        busy.end();
        advance(idleSeconds);
    }

    private void advance(int seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }
}
