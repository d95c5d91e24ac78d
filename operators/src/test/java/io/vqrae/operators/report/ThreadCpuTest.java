package io.vqrae.operators.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** CPU time by kind of thread and stage, from /proc and from the thread bean. */
class ThreadCpuTest {
    /**
     * What the counts may lose to rounding: /proc counts a thread's user and system time in ticks of 10 ms each,
     * the process's CPU time is read in ticks too.
     */
    private static final double TICKS = 0.03;

    @Test
    void kind_foldsSubtasksAttemptsAndCounters() {
        assertThat(ThreadCpu.kind("decode (1/2)#0")).isEqualTo("decode");
        assertThat(ThreadCpu.kind("decode (2/2)#13")).isEqualTo("decode");
        assertThat(ThreadCpu.kind("tokenize (1/1)#")).as("cut by /proc after the '#'").isEqualTo("tokenize");
        assertThat(ThreadCpu.kind("GC Thread#3")).isEqualTo("GC Thread#N");
        assertThat(ThreadCpu.kind("data-plane-kafka-request-handler-7")).isEqualTo("data-plane-kafka-request-handler-N");
        assertThat(ThreadCpu.kind("C2 CompilerThre")).isEqualTo("C2 CompilerThre");
    }

    @Test
    void stage_ofTheThreadKindsOfTheJobs() {
        Map<String, Stage> expected = Map.ofEntries(
                Map.entry("decode", Stage.DECODE),
                Map.entry("deduplicate -> ", Stage.DECODE),
                Map.entry("tokenize", Stage.TOKENIZER),
                Map.entry("tokenize -> enc", Stage.TOKENIZER),
                Map.entry("vqrae-inference", Stage.TOKENIZER),
                Map.entry("vqrae-psnr-samp", Stage.TOKENIZER),
                Map.entry("encode", Stage.TOKENIZER),
                Map.entry("Source: images", Stage.OTHER),
                Map.entry("Source: corpus-", Stage.OTHER),
                Map.entry("kafka-producer-", Stage.OTHER),
                Map.entry("GC Thread#N", Stage.OTHER),
                Map.entry(ThreadCpu.NATIVE, Stage.OTHER),
                Map.entry(ThreadCpu.ENDED, Stage.OTHER));
        expected.forEach((kind, stage) -> assertThat(Stage.of(kind)).as(kind).isEqualTo(stage));
    }

    @ParameterizedTest
    @EnumSource(ThreadCpu.Source.class)
    void between_putsAThreadsCpuUnderItsStage_andTheKindsAddUpToTheProcess(ThreadCpu.Source source) throws Exception {
        ThreadCpu.Sample first = ThreadCpu.sample(source);
        Spinner spinner = Spinner.start("decode (1/2)#0", 0.3);
        spinner.spun.await();

        ThreadCpu.Usage usage = ThreadCpu.between(first, ThreadCpu.sample(source));
        spinner.finish();

        double spun = spinner.cpuNanos.get() / 1e9;
        assertThat(spun).isGreaterThanOrEqualTo(0.3);
        assertThat(usage.cpuByStage().get(Stage.DECODE)).as("the spinner's CPU, to the ticks").isGreaterThanOrEqualTo(spun - TICKS);
        assertThat(usage.cpuByKind().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(usage.cpuSeconds(), offset(1e-9));
        assertThat(usage.cpuByStage().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(usage.cpuSeconds(), offset(1e-9));
        assertThat(usage.cpuSeconds()).isGreaterThanOrEqualTo(spun - TICKS);
    }

    @Test
    void recorder_keepsTheCpuOfAThreadThatEndedBeforeItStopped() throws Exception {
        ThreadCpu.Usage usage;
        double spun;
        try (ThreadCpu.Recorder recorder = ThreadCpu.Recorder.start()) {
            Spinner spinner = Spinner.start("tokenize (1/1)#0", 0.3);
            spinner.spun.await();
            spinner.finish();
            spun = spinner.cpuNanos.get() / 1e9;
            usage = recorder.stop();
        }
        // Seen by a sample before it ended, it is the tokenizer's; else it is in the ended threads' share.
        assertThat(usage.cpuByStage().get(Stage.TOKENIZER) + usage.cpuByKind().getOrDefault(ThreadCpu.ENDED, 0.0)
                + usage.cpuByKind().getOrDefault(ThreadCpu.NATIVE, 0.0)).isGreaterThanOrEqualTo(spun - TICKS);
        assertThat(usage.cpuByKind().values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(usage.cpuSeconds(), offset(1e-9));
    }

    @Test
    void recorder_lapsCountEachIntervalOnce() throws Exception {
        try (ThreadCpu.Recorder recorder = ThreadCpu.Recorder.start()) {
            Spinner first = Spinner.start("tokenize (1/1)#0", 0.3);
            first.spun.await();
            ThreadCpu.Usage one = recorder.lap();
            Spinner second = Spinner.start("decode (1/2)#0", 0.3);
            second.spun.await();
            ThreadCpu.Usage two = recorder.lap();
            first.finish();
            second.finish();

            assertThat(one.cpuByStage().get(Stage.TOKENIZER)).isGreaterThanOrEqualTo(first.cpuNanos.get() / 1e9 - TICKS);
            assertThat(two.cpuByStage().get(Stage.DECODE)).isGreaterThanOrEqualTo(second.cpuNanos.get() / 1e9 - TICKS);
            assertThat(two.cpuByStage().get(Stage.TOKENIZER)).as("the first spinner only waited during the second lap").isLessThan(TICKS);
        }
    }

    /** A thread that burns {@code seconds} of its own CPU time, then waits to be finished. */
    private static final class Spinner {
        final CountDownLatch spun = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicLong cpuNanos = new AtomicLong();
        Thread thread;

        static Spinner start(String name, double seconds) {
            Spinner spinner = new Spinner();
            spinner.thread = new Thread(() -> {
                var bean = ManagementFactory.getThreadMXBean();
                long x = 0;
                while (bean.getCurrentThreadCpuTime() < seconds * 1e9) {
                    x += System.nanoTime() % 7;
                }
                spinner.cpuNanos.set(bean.getCurrentThreadCpuTime() + (x & 0)); // x kept alive
                spinner.spun.countDown();
                try {
                    spinner.done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, name);
            spinner.thread.start();
            return spinner;
        }

        void finish() throws InterruptedException {
            done.countDown();
            thread.join();
        }
    }
}
