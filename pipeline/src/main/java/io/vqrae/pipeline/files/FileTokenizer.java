package io.vqrae.pipeline.files;

import io.vqrae.models.manifest.ModelLoadException;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.pipeline.config.JobConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Tokenizes image files without Kafka or Flink, with the job's decoder, limits, batching and model settings:
 * what {@code vqrae tokenize} runs. Files are read and decoded ahead on a pool of threads while the calling
 * thread runs the encoder, so decoding and inference overlap; results are reported in input order (a
 * tokenized file when its batch is encoded, a rejected one right after the files before it), so the order
 * costs no parallelism: a rejection waits at most for the batch being filled.
 */
public final class FileTokenizer {
    /** Receives each file's outcome, on the calling thread. */
    public interface Listener {
        /** File {@code file} is image {@code index} of {@code batch}, which took {@code encodeNanos}. */
        void tokenized(Path file, ImagePreparer.Prepared prepared, EncodedBatch batch, int index, long encodeNanos);

        void rejected(Path file, ReasonCode reason, String message);
    }

    private final JobConfig config;
    private final ModelManifest manifest;
    private final int decodeThreads;

    /**
     * @param config the job's configuration: model, limits, batching
     * @param manifest the model's manifest, loaded from {@code config}
     * @param decodeThreads threads that read and decode files, at least 1
     */
    public FileTokenizer(JobConfig config, ModelManifest manifest, int decodeThreads) {
        this.config = Objects.requireNonNull(config, "config");
        this.manifest = Objects.requireNonNull(manifest, "manifest");
        if (decodeThreads < 1) {
            throw new IllegalArgumentException("decodeThreads must be at least 1, got " + decodeThreads);
        }
        this.decodeThreads = decodeThreads;
    }

    /** Tokenizes {@code files}, reporting each to {@code listener}. */
    public void run(List<Path> files, Listener listener) throws ModelLoadException, InterruptedException {
        int batchLimit = config.batching().maxSize();
        // ImagePreparer is not thread-safe; each decode thread keeps its own.
        ThreadLocal<ImagePreparer> preparers = ThreadLocal.withInitial(() -> new ImagePreparer(manifest, config.limits()));
        ExecutorService decoders = Executors.newFixedThreadPool(decodeThreads, runnable -> {
            Thread thread = new Thread(runnable, "vqrae-file-decode");
            thread.setDaemon(true);
            return thread;
        });
        try (TokenizerSession session = TokenizerSession.open(config.model().session(manifest, 0))) {
            // The window bounds the decoded images held in memory to about two batches beyond the running one.
            Deque<Future<Read>> window = new ArrayDeque<>();
            int ahead = 2 * batchLimit + decodeThreads;
            List<ImagePreparer.Prepared> batch = new ArrayList<>(batchLimit);
            List<Path> batchFiles = new ArrayList<>(batchLimit);
            List<Held> held = new ArrayList<>();
            int submitted = 0;
            while (submitted < files.size() || !window.isEmpty()) {
                while (submitted < files.size() && window.size() < ahead) {
                    Path file = files.get(submitted++);
                    window.add(decoders.submit(() -> read(file, preparers.get())));
                }
                Read next = window.remove().get();
                if (next.outcome() instanceof ImagePreparer.Prepared prepared) {
                    batch.add(prepared);
                    batchFiles.add(next.file());
                    if (batch.size() == batchLimit) {
                        encode(session, batch, batchFiles, held, listener);
                    }
                } else if (next.outcome() instanceof ImagePreparer.Rejected rejected) {
                    reject(new Held(batch.size(), next.file(), rejected.rejection().reason(), rejected.rejection().message()), held, listener);
                } else {
                    // A file that cannot be read is this command's own reason; the decoder's codes cover everything after.
                    reject(new Held(batch.size(), next.file(), ReasonCode.UNREADABLE_FILE, next.unreadable()), held, listener);
                }
            }
            if (!batch.isEmpty()) {
                encode(session, batch, batchFiles, held, listener);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("Preparing an image failed: " + e.getCause(), e.getCause());
        } finally {
            decoders.shutdownNow();
        }
    }

    /**
     * A rejected file held back until the files before it in the batch are reported.
     *
     * @param before how many files of the batch came before it
     */
    private record Held(int before, Path file, ReasonCode reason, String message) {}

    /** Reports a rejection now when no file before it waits in the batch, else once the batch is encoded. */
    private static void reject(Held rejection, List<Held> held, Listener listener) {
        if (rejection.before() == 0) {
            listener.rejected(rejection.file(), rejection.reason(), rejection.message());
        } else {
            held.add(rejection);
        }
    }

    /** A file read and prepared on a decode thread: an outcome, or why it could not be read. */
    private record Read(Path file, ImagePreparer.Outcome outcome, String unreadable) {}

    private static Read read(Path file, ImagePreparer preparer) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return new Read(file, null, e.toString());
        }
        return new Read(file, preparer.prepare(InputImage.of(file.toString(), bytes, Origin.NONE)), null);
    }

    /** Encodes the batch and reports its files, and the rejections held between them, in input order. */
    private static void encode(TokenizerSession session, List<ImagePreparer.Prepared> batch, List<Path> files, List<Held> held,
            Listener listener) {
        long start = System.nanoTime();
        EncodedBatch encoded = session.encode(batch.stream().map(p -> p.image().chw()).toList());
        long encodeNanos = System.nanoTime() - start;
        int next = 0;
        for (int i = 0; i < batch.size(); i++) {
            listener.tokenized(files.get(i), batch.get(i), encoded, i, encodeNanos);
            for (; next < held.size() && held.get(next).before() == i + 1; next++) {
                listener.rejected(held.get(next).file(), held.get(next).reason(), held.get(next).message());
            }
        }
        batch.clear();
        files.clear();
        held.clear();
    }
}
