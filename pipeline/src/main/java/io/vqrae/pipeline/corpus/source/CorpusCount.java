package io.vqrae.pipeline.corpus.source;

import io.vqrae.pipeline.corpus.source.reader.CorpusFileReader;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import io.vqrae.pipeline.corpus.format.webdataset.TarSamples;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.flink.core.fs.Path;

/**
 * Counts a corpus's inputs in the background, for a progress line with a total: a loose file is one input, a
 * shard (a file named {@code *.tar}) the inputs of its samples, read from its tar headers with the members'
 * bytes skipped, not read. Until every shard is counted the total is an estimate: the shards not yet counted
 * are taken to hold as many inputs per byte as those counted.
 *
 * <p>Of shards on a distributed filesystem (object storage, HDFS) only the first is counted, and the total stays
 * an estimate: reading every shard's headers there would cost a second read of the corpus, and on S3 a ranged
 * GET per member larger than the read-ahead, for a progress line.
 */
public final class CorpusCount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CorpusCount.class);

    /** A total and whether it is final. */
    public record Total(long inputs, boolean estimated) {
        /** Unknown: shards remain and none is counted yet. */
        public static final Total UNKNOWN = new Total(-1, true);
    }

    private final List<CorpusSplit> files;
    private final Thread thread;
    private final long looseFiles;
    private final long shardBytes;
    private volatile long countedInputs;
    private volatile long countedBytes;
    private volatile boolean done;
    /** Whether shards were left uncounted on purpose (see the class comment). */
    private volatile boolean sampled;

    private CorpusCount(List<CorpusSplit> files) {
        this.files = List.copyOf(files);
        this.looseFiles = files.stream().filter(file -> !isShard(file)).count();
        this.shardBytes = files.stream().filter(CorpusCount::isShard).mapToLong(CorpusSplit::length).sum();
        this.thread = new Thread(this::count, "vqrae-corpus-count");
        thread.setDaemon(true);
    }

    /** Starts counting {@code files}. */
    public static CorpusCount start(List<CorpusSplit> files) {
        CorpusCount count = new CorpusCount(files);
        count.thread.start();
        return count;
    }

    /** The total as far as counted. */
    public Total total() {
        if (done && !sampled) {
            return new Total(looseFiles + countedInputs, false);
        }
        if (shardBytes == 0) {
            return new Total(looseFiles, false);
        }
        long bytes = countedBytes;
        if (bytes == 0) {
            return Total.UNKNOWN;
        }
        return new Total(looseFiles + Math.round(countedInputs * (double) shardBytes / bytes), true);
    }

    private static boolean isShard(CorpusSplit file) {
        return file.path().toLowerCase(Locale.ROOT).endsWith(".tar");
    }

    private void count() {
        try {
            boolean countedRemote = false;
            for (CorpusSplit file : files) {
                if (!isShard(file)) {
                    continue;
                }
                Path shard = new Path(file.path());
                if (shard.getFileSystem().isDistributedFS()) {
                    if (countedRemote) {
                        sampled = true;
                        continue;
                    }
                    countedRemote = true;
                }
                long inputs = samplesOf(shard);
                countedBytes += file.length();
                countedInputs += inputs;
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
            done = true;
        } catch (IOException e) {
            // The job reads the shard and reports what is wrong with it; the total just stays an estimate.
            LOG.warn("Counting the corpus's inputs failed, the progress total stays an estimate: {}", e.getMessage());
        }
    }

    private static long samplesOf(Path shard) throws IOException {
        long inputs = 0;
        try (InputStream in = new BufferedInputStream(shard.getFileSystem().open(shard), 64 * 1024);
                TarSamples samples = new TarSamples(in, extension -> -1)) {
            TarSamples.Sample sample;
            while ((sample = samples.next()) != null) {
                inputs += CorpusFileReader.inputsOf(sample);
            }
        }
        return inputs;
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
