package io.vqrae.pipeline.reliability;

import io.vqrae.pipeline.testing.ObservedRun;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.job.TokenizeJob;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memory run's job JVM (started by {@link MemoryUnderAttackTest} with {@code -Xmx1g}): runs the bounded job on a
 * MiniCluster of its own, so the JobManager, the TaskManager and every task share the 1 GiB heap, then writes what it
 * saw as JSON. Arguments: {@code OUTPUT.json key=value...} (job configuration).
 */
public final class AttackedJob {
    private AttackedJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        TokenizeJob job = new TokenizeJob(JobPlan.resolve(JobConfig.fromMap(settings), "memory-under-attack"));
        ObservedRun.Result run = ObservedRun.run(job::attach, "memory-under-attack", 2);

        // Each pool's peak since the JVM started; their sum bounds the heap's peak from above (pools peak at different times).
        long heapPeak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPeak += pool.getPeakUsage().getUsed();
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("status", run.status().name());
        report.put("restarts", run.restarts());
        report.put("heap_max_bytes", Runtime.getRuntime().maxMemory());
        report.put("heap_peak_bytes", heapPeak);
        report.put("rss_peak_kib", rssPeakKib());
        new ObjectMapper().writeValue(Path.of(args[0]).toFile(), report);
        // The MiniCluster's and Kafka clients' non-daemon threads would keep the JVM alive.
        System.exit(0);
    }

    /** VmHWM of /proc/self/status: the resident set's high-water mark. */
    private static long rssPeakKib() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("/proc/self/status has no VmHWM");
    }
}
