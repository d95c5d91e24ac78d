package io.vqrae.operators.tokenize;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which GPU a tokenizer subtask takes: one of those Flink's external resource framework gave its TaskManager
 * ({@code external-resources: gpu} with Flink's GPU driver; each info's {@code index} property is a CUDA
 * ordinal), the one the fewest other subtasks of this TaskManager hold, so slots on a TaskManager with as many
 * GPUs as slots get a GPU each (ties go to the lowest ordinal). The holders are counted per JVM, which is per
 * TaskManager, and released with the {@link Lease}; a subtask index cannot do this, since indices say nothing
 * about which TaskManager a subtask runs on.
 *
 * <p>Two subtasks on one GPU run at half speed each while another GPU may idle, so taking a GPU that is already held
 * is logged as an ERROR, and {@link Lease#holders} feeds the metric {@code vqrae_tokenizer_gpu_holders}. Where
 * GPUs come from Flink, the job puts the tokenizer in a slot-sharing group that asks for one GPU per slot
 * (the pipeline's {@code ImageStages}), so Flink never places more tokenizer subtasks on a TaskManager than it has
 * GPUs; this is the check that it did not.
 */
public final class GpuAssignment {
    private static final Logger LOG = LoggerFactory.getLogger(GpuAssignment.class);

    /** The external resource name Flink's GPU driver is configured under. */
    public static final String RESOURCE = "gpu";

    /** Ordinal -> subtasks of this JVM holding it. */
    private static final Map<Integer, Integer> HOLDERS = new HashMap<>();

    private GpuAssignment() {}

    /** A GPU held by one subtask until closed. */
    public static final class Lease implements AutoCloseable {
        private final int device;
        private boolean released;

        private Lease(int device) {
            this.device = device;
        }

        /** The CUDA ordinal. */
        public int device() {
            return device;
        }

        /** How many subtasks of this TaskManager hold this lease's GPU now, this one included: 1 unless shared. */
        public int holders() {
            synchronized (HOLDERS) {
                return HOLDERS.getOrDefault(device, 0);
            }
        }

        @Override
        public void close() {
            synchronized (HOLDERS) {
                if (!released) {
                    released = true;
                    HOLDERS.merge(device, -1, (held, minus) -> held + minus == 0 ? null : held + minus);
                }
            }
        }
    }

    /**
     * Takes the least-held of the TaskManager's GPUs.
     *
     * @param gpus {@code getRuntimeContext().getExternalResourceInfos("gpu")}, not empty
     * @throws IllegalArgumentException if there is none, or one has no integer {@code index}
     */
    public static Lease acquire(Collection<ExternalResourceInfo> gpus) {
        TreeSet<Integer> ordinals = new TreeSet<>();
        for (ExternalResourceInfo gpu : gpus) {
            String index = gpu.getProperty("index").orElseThrow(() -> new IllegalArgumentException(
                    "A '" + RESOURCE + "' external resource without an 'index' property (keys " + gpu.getKeys() + ")"));
            try {
                ordinals.add(Integer.parseInt(index.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("A '" + RESOURCE + "' external resource with index '" + index + "', not a GPU ordinal", e);
            }
        }
        if (ordinals.isEmpty()) {
            throw new IllegalArgumentException("This TaskManager was given no '" + RESOURCE + "' external resource");
        }
        synchronized (HOLDERS) {
            int device = ordinals.first();
            for (int ordinal : ordinals) {
                if (HOLDERS.getOrDefault(ordinal, 0) < HOLDERS.getOrDefault(device, 0)) {
                    device = ordinal;
                }
            }
            int holders = HOLDERS.merge(device, 1, Integer::sum);
            if (holders > 1) {
                LOG.error("GPU {} is now held by {} tokenizer subtasks of this TaskManager, which has {} ({}): they share it at a "
                        + "fraction of its speed each while a GPU elsewhere may idle. Flink placed more tokenizer subtasks here "
                        + "than this TaskManager has GPUs; with external-resource.{}.amount set the job asks one GPU per "
                        + "tokenizer slot (deploy/README.md). Metric: vqrae_tokenizer_gpu_holders",
                        device, holders, ordinals.size(), ordinals, RESOURCE);
            }
            return new Lease(device);
        }
    }
}
