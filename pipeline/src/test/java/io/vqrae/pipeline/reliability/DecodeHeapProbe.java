package io.vqrae.pipeline.reliability;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.operators.decode.InputLimits;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;

/**
 * How much heap concurrent decodes of images at the default pixel limit take: THREADS threads each prepare
 * (decode and preprocess, as the job's decode stage does) an 8192x8191 image, just under the default 64 Mi
 * pixels, ROUNDS times. Run it in a JVM with the heap under test and {@code -XX:+ExitOnOutOfMemoryError}; it
 * prints how many were prepared and refused (and why), the heap pools' summed peak and VmHWM, or the JVM ends on
 * the first OutOfMemoryError. The numbers in
 * docs/pipeline.md ("Heap for decoding") come from it:
 *
 * <pre>
 * java -Xmx1g -XX:+ExitOnOutOfMemoryError \
 *   -cp "pipeline/target/test-classes:pipeline/target/classes:pipeline/target/lib/*:models/target/test-classes" \
 *   io.vqrae.pipeline.reliability.DecodeHeapProbe png 2 3
 * </pre>
 */
public final class DecodeHeapProbe {
    private DecodeHeapProbe() {}

    public static void main(String[] args) throws Exception {
        String format = args[0];
        int threads = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        byte[] image = largestDefaultImage(format);
        System.out.printf("%s: %d KiB encoded%n", format, image.length >> 10);
        ModelManifest manifest = TestPaths.tinyManifest();
        List<Thread> workers = new ArrayList<>();
        AtomicInteger prepared = new AtomicInteger();
        List<String> refused = new CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            // One preparer per thread, as each decode subtask has its own.
            ImagePreparer preparer = new ImagePreparer(manifest, InputLimits.DEFAULT);
            Thread worker = new Thread(() -> {
                for (int round = 0; round < rounds; round++) {
                    ImagePreparer.Outcome outcome = preparer.prepare(InputImage.of("probe", image, Origin.of("probe", 0, round)));
                    if (outcome instanceof ImagePreparer.Rejected rejected) {
                        refused.add(rejected.rejection().reason() + ": " + rejected.rejection().message());
                    } else {
                        prepared.incrementAndGet();
                    }
                }
            });
            worker.start();
            workers.add(worker);
        }
        for (Thread worker : workers) {
            worker.join();
        }
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            peak += pool.getType() == MemoryType.HEAP ? pool.getPeakUsage().getUsed() : 0;
        }
        String hwm = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM")).findFirst().orElse("");
        System.out.printf("%s (%d KiB), %d threads, -Xmx %d MiB: %d prepared, %d refused, heap peak (sum of the pools' peaks) %d MiB, %s%n",
                format, image.length >> 10, threads, Runtime.getRuntime().maxMemory() >> 20, prepared.get(), refused.size(), peak >> 20,
                hwm.replaceAll("\\s+", " "));
        refused.stream().distinct().forEach(reason -> System.out.println("  refused: " + reason));
    }

    /** A smooth gradient of 8192x8191 pixels (64 Mi minus one row) in {@code format}, a few MB encoded. */
    private static byte[] largestDefaultImage(String format) throws Exception {
        int width = 8192;
        int height = 8191;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = (x + y) * 255 / (width + height);
                row[x] = r << 16 | (x * 255 / width) << 8 | y * 255 / height;
            }
            image.setRGB(0, y, width, 1, row, 0, width);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IllegalArgumentException("no ImageIO writer for " + format);
        }
        return out.toByteArray();
    }
}
