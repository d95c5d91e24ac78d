package io.vqrae.pipeline.kafka;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.metrics.JobMetrics;
import io.vqrae.operators.metrics.MetricsSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes inputs through unchanged (chained to the source) and reports the source's consumer lag per
 * partition: records between the last one read and the partition's last stable offset, polled from the
 * brokers every few seconds on a thread of its own. An operator rather than part of the deserializer because
 * the poller needs a close.
 */
public final class ConsumerLagTracker extends RichMapFunction<InputImage, InputImage> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerLagTracker.class);
    private static final Duration POLL = Duration.ofSeconds(2);

    private final Map<String, String> clientProperties;
    private final MetricsSpec metrics;

    private transient Map<TopicPartition, Long> lastRead;
    private transient JobMetrics jobMetrics;
    private transient Admin admin;
    private transient Thread poller;
    private transient volatile boolean running;

    public ConsumerLagTracker(Properties clientProperties, MetricsSpec metrics) {
        this.clientProperties = new HashMap<>();
        clientProperties.forEach((k, v) -> this.clientProperties.put(k.toString(), v.toString()));
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public void open(OpenContext openContext) {
        lastRead = new ConcurrentHashMap<>();
        jobMetrics = JobMetrics.open(metrics, getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "vqrae-lag-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        admin = Admin.create(props);
        running = true;
        poller = new Thread(this::poll, "vqrae-consumer-lag");
        poller.setDaemon(true);
        poller.start();
    }

    @Override
    public InputImage map(InputImage input) {
        Origin origin = input.origin();
        if (origin.topic() != null && origin.partition() != null && origin.offset() != null) {
            lastRead.put(new TopicPartition(origin.topic(), origin.partition()), origin.offset());
        }
        return input;
    }

    private void poll() {
        while (running) {
            try {
                Thread.sleep(POLL.toMillis());
                report();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // Lag is for dashboards; a broker hiccup must not touch the job.
                LOG.debug("Consumer lag poll failed: {}", e.toString());
            }
        }
    }

    private void report() throws Exception {
        if (lastRead.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        lastRead.keySet().forEach(partition -> latest.put(partition, OffsetSpec.latest()));
        var ends = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all().get(POLL.toMillis(), TimeUnit.MILLISECONDS);
        ends.forEach((partition, end) -> jobMetrics.lag(partition.topic(), partition.partition(),
                Math.max(0, end.offset() - lastRead.get(partition) - 1)));
    }

    @Override
    public void close() throws Exception {
        running = false;
        try {
            if (poller != null) {
                poller.interrupt();
                poller.join();
                // A last reading, so a short job still leaves its final lag on the dashboard.
                try {
                    report();
                } catch (Exception e) {
                    LOG.debug("Last consumer lag poll failed: {}", e.toString());
                }
            }
            if (admin != null) {
                admin.close(Duration.ZERO);
            }
        } finally {
            if (jobMetrics != null) {
                jobMetrics.close();
            }
        }
    }
}
