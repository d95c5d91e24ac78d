package io.vqrae.pipeline.bench;

import io.vqrae.operators.report.ThreadCpu;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.KafkaClients;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The whole job on the embedded default (in-JVM broker, MiniCluster, exactly-once sink), timed from its
 * committed output as a consumer sees it: a {@code read_committed} consumer of the token topic counts records
 * as each checkpoint commits them.
 *
 * <p>Two modes. {@link #steadyState}: the input is loaded before the job starts (so loading does not compete
 * with the job) and the rate is taken between the first commit past a quarter of the images and the last one,
 * excluding start-up and warm-up. {@link #soak}: an unbounded job fed at a fixed rate for a given time, with
 * the JVM's heap, direct memory and resident set sampled at intervals.
 */
final class JobBench {
    private static final int BROKER_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
    private static final String JOB_NAME = "vqrae-bench";
    /** Commits before this share of the images count as warm-up. */
    static final double WARM_UP_SHARE = 0.25;

    private final Path modelDir;
    private final List<byte[]> photos;
    private final Map<String, String> settings;

    /**
     * @param modelDir the model to run
     * @param photos image files' bytes, cycled through to make the input
     * @param settings job config keys over the bench's defaults (checkpoints every 2 s, decode parallelism 2)
     */
    JobBench(Path modelDir, List<byte[]> photos, Map<String, String> settings) {
        this.modelDir = modelDir;
        this.photos = List.copyOf(photos);
        this.settings = Map.copyOf(settings);
    }

    /**
     * A bounded run's steady state.
     *
     * @param images committed images between the two commits measured
     * @param seconds time between those commits
     * @param wallSeconds submission to finish, start-up included
     * @param cpu what this JVM (job, broker, consumer) used between those commits, by kind of thread
     *     ({@link ThreadCpu})
     * @param wholeRun true when the commits gave no steady window (a model so slow that one checkpoint commits
     *     most images: its barrier waits behind them), so the figures span the whole run, start-up included
     */
    record Steady(long images, double seconds, double wallSeconds, ThreadCpu.Usage cpu, boolean wholeRun) {
        double imagesPerSecond() {
            return images / seconds;
        }

        /** Images per CPU-second: what one core sustains. */
        double imagesPerCoreSecond() {
            return images / cpu.cpuSeconds();
        }
    }

    /**
     * One sample of a soak. The heap's committed size is there because G1 grows it on demand up to {@code -Xmx}:
     * the resident set grows with it in steps that are heap sizing, not a leak; what the resident set gains
     * beyond the committed heap is native memory (ONNX Runtime, codecs, the allocator's arenas, the JIT).
     */
    record MemorySample(double atSeconds, long committed, long heapUsedBytes, long heapAfterGcBytes, long heapCommittedBytes,
            long directBytes, long rssBytes) {}

    Steady steadyState(int imageCount) throws Exception {
        try (EmbeddedKafka broker = EmbeddedKafka.start(BROKER_MAX_MESSAGE_BYTES)) {
            JobConfig config = config(broker, true);
            TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, JOB_NAME));
            load(config, imageCount);
            try (CommitWatcher watcher = CommitWatcher.start(config)) {
                StreamExecutionEnvironment env = environment(config);
                job.attach(env);
                watcher.started();
                long start = System.nanoTime();
                env.execute(JOB_NAME);
                double wall = (System.nanoTime() - start) / 1e9;
                watcher.awaitCount(imageCount, Duration.ofMinutes(1));
                return watcher.steady(imageCount, wall);
            }
        }
    }

    List<MemorySample> soak(double ratePerSecond, Duration length, Duration every) throws Exception {
        try (EmbeddedKafka broker = EmbeddedKafka.start(BROKER_MAX_MESSAGE_BYTES)) {
            JobConfig config = config(broker, false);
            TokenizeJob job = new TokenizeJob(JobPlan.resolve(config, JOB_NAME));
            try (CommitWatcher watcher = CommitWatcher.start(config); InputWriter writer = new InputWriter(config.kafka())) {
                StreamExecutionEnvironment env = environment(config);
                job.attach(env);
                JobClient client = env.executeAsync(JOB_NAME);
                List<MemorySample> samples = new ArrayList<>();
                long start = System.nanoTime();
                long nextSample = start;
                long end = start + length.toNanos();
                long sent = 0;
                try {
                    while (System.nanoTime() < end) {
                        long now = System.nanoTime();
                        long due = (long) ((now - start) / 1e9 * ratePerSecond);
                        for (; sent < due; sent++) {
                            writer.sendAsync("soak-" + sent, photos.get((int) (sent % photos.size())), null);
                        }
                        if (now >= nextSample) {
                            samples.add(sample((now - start) / 1e9, watcher.count()));
                            nextSample += every.toNanos();
                        }
                        Thread.sleep(20);
                    }
                    samples.add(sample((System.nanoTime() - start) / 1e9, watcher.count()));
                } finally {
                    client.cancel().get(1, TimeUnit.MINUTES);
                }
                return samples;
            }
        }
    }

    private JobConfig config(EmbeddedKafka broker, boolean bounded) {
        Map<String, String> values = new HashMap<>();
        values.put("model.dir", modelDir.toString());
        values.put("kafka.bootstrap-servers", broker.bootstrapServers());
        values.put("kafka.bounded", Boolean.toString(bounded));
        values.put("kafka.starting-offsets", "earliest");
        values.put("checkpoint.interval", "2s");
        values.put("parallelism.decode", "2");
        values.put("metrics.port", "0");
        values.putAll(settings);
        return JobConfig.fromMap(values);
    }

    private static StreamExecutionEnvironment environment(JobConfig config) {
        return StreamExecutionEnvironment.createLocalEnvironment(
                Math.max(config.parallelism().decode(), config.parallelism().tokenizer()));
    }

    private void load(JobConfig config, int count) {
        try (InputWriter writer = new InputWriter(config.kafka())) {
            for (int i = 0; i < count; i++) {
                writer.sendAsync("bench-" + i, photos.get(i % photos.size()), null);
            }
        }
    }

    static MemorySample sample(double at, long committed) throws IOException {
        long heapUsed = 0;
        long heapCommitted = 0;
        long heapAfterGc = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapUsed += pool.getUsage().getUsed();
                heapCommitted += pool.getUsage().getCommitted();
                if (pool.getCollectionUsage() != null) {
                    heapAfterGc += pool.getCollectionUsage().getUsed();
                }
            }
        }
        long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct"))
                .mapToLong(BufferPoolMXBean::getMemoryUsed)
                .sum();
        return new MemorySample(at, committed, heapUsed, heapAfterGc, heapCommitted, direct, residentSetBytes());
    }

    /** VmRSS of this process from /proc (Linux), or -1 elsewhere. */
    private static long residentSetBytes() throws IOException {
        return procStatus("VmRSS:");
    }

    /** The largest resident set this process has had (VmHWM, Linux), or -1 elsewhere. */
    static long peakResidentSetBytes() throws IOException {
        return procStatus("VmHWM:");
    }

    private static long procStatus(String field) throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    /** Counts committed token records from a thread of its own, remembering when each commit became visible. */
    private static final class CommitWatcher implements AutoCloseable {
        private record Commit(long count, ThreadCpu.Sample cpu) {}

        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Thread thread;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong count = new AtomicLong();
        private final List<Commit> commits = new ArrayList<>();

        private CommitWatcher(JobConfig config) {
            var props = KafkaClients.properties(config.kafka());
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            // Only counted: fetch as little of each record as the consumer allows.
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            thread = new Thread(this::watch, "bench-commit-watcher");
            thread.setDaemon(true);
        }

        static CommitWatcher start(JobConfig config) {
            CommitWatcher watcher = new CommitWatcher(config);
            String topic = config.kafka().topics().tokens();
            TopicPartition partition = new TopicPartition(topic, 0);
            watcher.consumer.assign(List.of(partition));
            watcher.consumer.seekToBeginning(List.of(partition));
            watcher.thread.start();
            return watcher;
        }

        private void watch() {
            while (running.get()) {
                int polled = consumer.poll(Duration.ofMillis(50)).count();
                if (polled > 0) {
                    long total = count.addAndGet(polled);
                    synchronized (commits) {
                        commits.add(new Commit(total, ThreadCpu.sample()));
                    }
                }
            }
        }

        long count() {
            return count.get();
        }

        void awaitCount(long expected, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count.get() < expected) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Only " + count.get() + " of " + expected
                            + " images were committed; see the log for dead letters or failures");
                }
                Thread.sleep(20);
            }
        }

        /** Marks the job's submission: the start of a whole-run measurement. */
        void started() {
            synchronized (commits) {
                commits.add(new Commit(0, ThreadCpu.sample()));
            }
        }

        Steady steady(long total, double wallSeconds) {
            List<Commit> seen;
            synchronized (commits) {
                seen = List.copyOf(commits);
            }
            Commit last = seen.get(seen.size() - 1);
            Commit first = seen.stream().filter(c -> c.count() >= total * WARM_UP_SHARE).findFirst().orElseThrow();
            boolean wholeRun = first == last;
            if (wholeRun) {
                first = seen.get(0);
            }
            ThreadCpu.Usage cpu = ThreadCpu.between(first.cpu(), last.cpu());
            return new Steady(last.count() - first.count(), cpu.wallSeconds(), wallSeconds, cpu, wholeRun);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
            consumer.close();
        }
    }
}
