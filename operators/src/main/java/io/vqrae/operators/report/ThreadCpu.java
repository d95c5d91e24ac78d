package io.vqrae.operators.report;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU time of this process by kind of thread: what a run spent where. On Linux it reads
 * {@code /proc/self/task/<tid>/stat}, which lists every thread of the process, native ones included: ONNX
 * Runtime's pool threads carry the name of the thread that made the session (the tokenizer task's), GC and JIT
 * threads their own; the kernel keeps the first 15 characters of a name. Elsewhere it reads {@link ThreadMXBean}:
 * Java threads by their full name, and the rest of the process's CPU as one {@link #NATIVE} kind.
 *
 * <p>A thread's CPU counts from the first {@link Sample} (or its start, if later) to the last sample that saw it;
 * what threads that ended in between used after that is {@link #ENDED}, so the kinds add up to the process's CPU
 * time. {@link Recorder} samples every 500 ms to keep that small for a whole run (a bounded job's task threads end
 * before the run does). /proc counts in ticks of 10 ms, so a thread that used less
 * than a tick shows none.
 */
public final class ThreadCpu {
    private static final Logger LOG = LoggerFactory.getLogger(ThreadCpu.class);

    /** The kind of the process CPU no Java thread accounts for (without /proc). */
    public static final String NATIVE = "(native threads: ONNX Runtime, GC, JIT)";
    /** The kind of the CPU of threads that ended after the last sample that saw them. */
    public static final String ENDED = "(threads that ended between samples)";

    private static final Path TASKS = Path.of("/proc/self/task");
    /** /proc's clock tick (USER_HZ), 100 on every Linux architecture Java runs on. */
    private static final long NANOS_PER_TICK = 10_000_000L;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** Where samples come from: /proc where it is readable (Linux), else the JVM's thread bean. */
    public enum Source {
        PROC, THREAD_MX_BEAN;

        static final Source DEFAULT = Files.isReadable(TASKS) ? PROC : THREAD_MX_BEAN;
    }

    private ThreadCpu() {}

    /** One thread's kind and CPU time so far. */
    public record ThreadTime(String kind, long cpuNanos) {}

    /**
     * The process at one moment.
     *
     * @param atNanos {@link System#nanoTime()}
     * @param processCpuNanos CPU time of the whole process so far
     * @param gpuSeconds {@link GpuUse#seconds()} so far
     * @param threads each live thread by id (its tid, or its Java id without /proc)
     * @param source where the threads were read
     */
    public record Sample(long atNanos, long processCpuNanos, double gpuSeconds, Map<Long, ThreadTime> threads, Source source) {}

    /**
     * What the process used between two samples.
     *
     * @param wallSeconds time between them
     * @param cpuSeconds CPU time of the process (or its threads' sum, where that rounds a tick above it)
     * @param gpuSeconds device-seconds of GPUs held by tokenizer sessions ({@link GpuUse})
     * @param cpuByKind CPU seconds by kind of thread, most first; they add up to {@code cpuSeconds}
     */
    public record Usage(double wallSeconds, double cpuSeconds, double gpuSeconds, Map<String, Double> cpuByKind) {
        public Usage {
            cpuByKind = sortedByValue(cpuByKind);
        }

        /** CPU seconds by stage, every stage present. */
        public Map<Stage, Double> cpuByStage() {
            Map<Stage, Double> byStage = new LinkedHashMap<>();
            for (Stage stage : Stage.values()) {
                byStage.put(stage, 0.0);
            }
            cpuByKind.forEach((kind, seconds) -> byStage.merge(Stage.of(kind), seconds, Double::sum));
            return byStage;
        }
    }

    public static Sample sample() {
        return sample(Source.DEFAULT);
    }

    static Sample sample(Source source) {
        long at = System.nanoTime();
        double gpu = GpuUse.seconds();
        Map<Long, ThreadTime> threads = source == Source.PROC ? procThreads() : javaThreads();
        // After the threads, so the process total is never below their sum.
        return new Sample(at, OS.getProcessCpuTime(), gpu, threads, source);
    }

    /** The usage from {@code first} to {@code last}, counting each thread up to {@code last}. */
    public static Usage between(Sample first, Sample last) {
        return usage(first, last.threads(), last);
    }

    /**
     * A thread's name with what varies between threads of one kind folded: subtask indices and attempt numbers
     * ("decode (1/2)#0" and "decode (2/2)#0" are "decode", also when /proc cut the name after the '#'), and numbers
     * after a non-letter ("GC Thread#3" is "GC Thread#N"; "C2 CompilerThread0" keeps its "C2").
     */
    static String kind(String name) {
        return name.replaceAll("\\(\\d+/\\d+\\)(#\\d*)?", "").replaceAll("(?<![A-Za-z])\\d+", "N").trim();
    }

    /**
     * Samples from {@link #start()} to {@link #stop()}, so threads that end in between still count; {@link #lap()}
     * reads the usage so far and goes on. Closing it without {@link #stop()} (a run that failed) only stops the
     * sampling.
     */
    public static final class Recorder implements AutoCloseable {
        /** A sample reads one small file per thread: a few milliseconds of CPU for the 200 threads of a demo. */
        static final Duration EVERY = Duration.ofMillis(500);

        private final Source source;
        private final Thread thread;
        private Sample first; // guarded by this
        private final Map<Long, ThreadTime> lastSeen = new HashMap<>(); // guarded by this
        private volatile boolean running = true;

        private Recorder(Source source, Duration every) {
            this.source = source;
            first = sample(source);
            lastSeen.putAll(first.threads());
            thread = new Thread(() -> {
                while (running) {
                    try {
                        Thread.sleep(every.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                    Sample now = sample(source);
                    synchronized (this) {
                        lastSeen.putAll(now.threads());
                    }
                }
            }, "vqrae-cpu-recorder");
            thread.setDaemon(true);
            thread.start();
        }

        /** Samples every {@link #EVERY}: for a run that ends its threads before it ends. */
        public static Recorder start() {
            return new Recorder(Source.DEFAULT, EVERY);
        }

        /** Samples every {@code every}. */
        public static Recorder start(Duration every) {
            return new Recorder(Source.DEFAULT, every);
        }

        static Recorder start(Source source) {
            return new Recorder(source, EVERY);
        }

        /** The usage since {@link #start()} or the last lap; the next lap counts from now. */
        public synchronized Usage lap() {
            Sample now = sample(source);
            lastSeen.putAll(now.threads());
            Usage usage = usage(first, lastSeen, now);
            first = now;
            lastSeen.clear();
            lastSeen.putAll(now.threads());
            return usage;
        }

        /** Stops sampling and returns the usage since {@link #start()} or the last lap. */
        public Usage stop() throws InterruptedException {
            close();
            return lap();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join();
        }
    }

    private static Usage usage(Sample first, Map<Long, ThreadTime> lastSeen, Sample last) {
        Map<String, Double> byKind = new HashMap<>();
        long counted = 0;
        for (Map.Entry<Long, ThreadTime> seen : lastSeen.entrySet()) {
            ThreadTime before = first.threads().get(seen.getKey());
            // A tid the kernel gave to a new thread since the first sample counts from 0.
            long start = before != null && before.kind().equals(seen.getValue().kind()) && before.cpuNanos() <= seen.getValue().cpuNanos()
                    ? before.cpuNanos() : 0;
            long nanos = seen.getValue().cpuNanos() - start;
            counted += nanos;
            if (nanos > 0) {
                byKind.merge(seen.getValue().kind(), nanos / 1e9, Double::sum);
            }
        }
        // Threads and process are counted in ticks each, so the threads' sum can lie a tick or two above the process's.
        long processNanos = Math.max(counted, last.processCpuNanos() - first.processCpuNanos());
        byKind.put(first.source() == Source.PROC ? ENDED : NATIVE, (processNanos - counted) / 1e9);
        return new Usage((last.atNanos() - first.atNanos()) / 1e9, processNanos / 1e9, last.gpuSeconds() - first.gpuSeconds(), byKind);
    }

    private static Map<Long, ThreadTime> procThreads() {
        Map<Long, ThreadTime> threads = new HashMap<>();
        List<Path> tasks;
        try (Stream<Path> list = Files.list(TASKS)) {
            tasks = list.toList();
        } catch (IOException e) {
            LOG.debug("Cannot list {}: {}", TASKS, e.toString());
            return threads;
        }
        for (Path task : tasks) {
            String stat;
            try {
                stat = Files.readString(task.resolve("stat"));
            } catch (IOException ended) {
                continue; // the thread ended since the listing
            }
            // "tid (name) state ppid ...": the name may hold spaces and parentheses, so the fields start after the
            // last ')'; utime and stime are the 14th and 15th fields.
            int close = stat.lastIndexOf(')');
            String[] fields = stat.substring(close + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            threads.put(Long.parseLong(task.getFileName().toString()),
                    new ThreadTime(kind(stat.substring(stat.indexOf('(') + 1, close)), ticks * NANOS_PER_TICK));
        }
        return threads;
    }

    private static Map<Long, ThreadTime> javaThreads() {
        Map<Long, ThreadTime> threads = new HashMap<>();
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info != null) {
                long nanos = THREADS.getThreadCpuTime(info.getThreadId());
                if (nanos >= 0) {
                    threads.put(info.getThreadId(), new ThreadTime(kind(info.getThreadName()), nanos));
                }
            }
        }
        return threads;
    }

    private static <K> Map<K, Double> sortedByValue(Map<K, Double> map) {
        Map<K, Double> sorted = new LinkedHashMap<>();
        map.entrySet().stream().sorted(Map.Entry.<K, Double>comparingByValue().reversed()).forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }
}
