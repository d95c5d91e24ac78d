package io.vqrae.models.bench;

import io.vqrae.models.image.ImageDecodeException;
import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.preprocess.PreprocessSpec;
import io.vqrae.models.preprocess.Preprocessor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Decode + preprocess images/s on one core, Java ({@link ImageDecoder} + {@link Preprocessor}) against Pillow
 * ({@code python -m vqrae.formats bench}, the reference's own decode + preprocess), on the same files, in
 * alternating rounds of one run so that a noisy machine slows both alike. Each side decodes its payloads from
 * memory in a loop on one thread. Run by {@code bin/bench-decode}; the numbers are documented in
 * docs/BENCHMARKS.md.
 *
 * <p>Arguments: {@code CORPUS MODEL_DIR PYTHON [SECONDS [ROUNDS]]}, where CORPUS holds one folder per format
 * ({@code python -m vqrae.formats corpus}) and MODEL_DIR's manifest gives the input size and filter.
 */
public final class DecodeBench {
    /** Long enough for G1 to grow and touch its heap: before that, fresh pages make Java allocations slow. */
    private static final double WARM_UP_SECONDS = 8;

    private final ImageDecoder decoder;
    private final Preprocessor preprocessor;

    private DecodeBench(ModelManifest manifest) {
        this.decoder = manifest.imageDecoder().build();
        this.preprocessor = new Preprocessor(manifest.preprocessing());
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: DecodeBench CORPUS MODEL_DIR PYTHON [SECONDS [ROUNDS]]");
            System.exit(2);
        }
        Path corpus = Path.of(args[0]);
        ModelManifest manifest = ModelManifest.loadVerified(Path.of(args[1]));
        double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 2;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        List<Path> folders;
        try (Stream<Path> list = Files.list(corpus)) {
            folders = list.filter(Files::isDirectory).sorted().toList();
        }
        DecodeBench java = new DecodeBench(manifest);
        PreprocessSpec spec = manifest.preprocessing();
        ProcessBuilder pillowCommand = new ProcessBuilder(args[2], "-m", "vqrae.formats", "bench",
                "--size", String.valueOf(spec.height()), String.valueOf(spec.width()),
                "--filter", spec.filter().name().toLowerCase(Locale.ROOT), "--seconds", String.valueOf(seconds))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        Process pillow = pillowCommand.start();
        try (PrintWriter toPillow = new PrintWriter(pillow.getOutputStream(), true, StandardCharsets.UTF_8);
                BufferedReader fromPillow = new BufferedReader(new InputStreamReader(pillow.getInputStream(), StandardCharsets.UTF_8))) {
            List<List<byte[]>> payloads = new ArrayList<>();
            for (Path folder : folders) {
                payloads.add(read(folder));
            }
            long warmUpEnd = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
            while (System.nanoTime() < warmUpEnd) {
                for (List<byte[]> format : payloads) {
                    java.rate(format, 0);
                }
            }
            double[][] javaRates = new double[folders.size()][rounds];
            double[][] pillowRates = new double[folders.size()][rounds];
            for (int round = 0; round < rounds; round++) {
                for (int f = 0; f < folders.size(); f++) {
                    javaRates[f][round] = java.rate(payloads.get(f), seconds);
                    toPillow.println(folders.get(f).toAbsolutePath());
                    String line = fromPillow.readLine();
                    if (line == null) {
                        throw new IOException("the Pillow benchmark process ended (its error output is above)");
                    }
                    pillowRates[f][round] = Double.parseDouble(line.trim());
                }
            }
            printTable(folders, payloads, javaRates, pillowRates, seconds, rounds);
        } finally {
            pillow.destroy();
        }
    }

    /** Images/s of decode + preprocess over {@code payloads}, repeated until {@code seconds} have passed. */
    private double rate(List<byte[]> payloads, double seconds) throws ImageDecodeException {
        long start = System.nanoTime();
        long images = 0;
        long elapsed;
        do {
            for (byte[] payload : payloads) {
                preprocessor.toChw(decoder.decode(payload));
            }
            images += payloads.size();
            elapsed = System.nanoTime() - start;
        } while (elapsed < seconds * 1e9);
        return images / (elapsed / 1e9);
    }

    private static List<byte[]> read(Path folder) throws IOException {
        List<byte[]> payloads = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                payloads.add(Files.readAllBytes(file));
            }
        }
        return payloads;
    }

    private static void printTable(List<Path> folders, List<List<byte[]>> payloads, double[][] javaRates,
            double[][] pillowRates, double seconds, int rounds) {
        System.out.printf("Decode + preprocess, images/s on one core (median of %d alternating rounds of %.0f s each;"
                + " ratio = median of the per-round ratios)%n", rounds, seconds);
        System.out.printf("| %-14s | %6s | %12s | %14s | %11s |%n", "format", "files", "Java", "Pillow", "Java/Pillow");
        System.out.println("|----------------|--------|--------------|----------------|-------------|");
        for (int f = 0; f < folders.size(); f++) {
            double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratios[r] = javaRates[f][r] / pillowRates[f][r];
            }
            System.out.printf(Locale.ROOT, "| %-14s | %6d | %12.0f | %14.0f | %11.2f |%n", folders.get(f).getFileName(),
                    payloads.get(f).size(), median(javaRates[f]), median(pillowRates[f]), median(ratios));
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
