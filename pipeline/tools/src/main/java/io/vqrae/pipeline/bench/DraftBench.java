package io.vqrae.pipeline.bench;

import io.vqrae.models.image.ImageDecoder;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.npy.Npy;
import io.vqrae.models.onnx.EncodedBatch;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.onnx.TokenizerSession;
import io.vqrae.models.preprocess.PreprocessSpec;
import io.vqrae.models.preprocess.Preprocessor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.apache.flink.util.FileUtils;

/**
 * Large photos decoded at their output size ({@code limits.jpeg-draft}) against decoded whole, by size group
 * (megapixels) and encoding (baseline or progressive: a progressive JPEG's entropy decoding, which scaling does
 * not shorten, is most of its cost): decode + preprocess images/s of one thread, exact and draft in alternating rounds, for Java and
 * for Pillow (the same draft, {@code Image.draft}); and how far the tokens move: per photo the share of token
 * positions where the draft's token is the exact decode's (both Java and ONNX Runtime), and where the Java
 * draft's token is PyTorch's on Pillow's draft (the same pixels, so a different token is the runtimes' float
 * arithmetic at a near-tie).
 */
final class DraftBench {
    /**
     * One size group.
     *
     * @param group e.g. {@code 8-12 MP}
     * @param photos photos in the group
     * @param exact Java and Pillow images/s decoding whole
     * @param draft the same with drafts
     * @param sameAsExact mean share of token positions where draft and exact agree (Java)
     * @param sameAsPillowDraft mean share where the Java draft agrees with PyTorch on Pillow's draft
     */
    record Row(String group, int photos, DecodeLimit.Rates exact, DecodeLimit.Rates draft, double sameAsExact, double sameAsPillowDraft) {}

    private static final double[] GROUP_BOUNDS_MP = {3, 6, 12};
    /** Group keys: the size group times two, plus one for progressive files. */
    private static final int PROGRESSIVE = 1;

    private final ModelManifest manifest;
    private final Path model;
    private final String python;
    private final Path pythonPath;

    DraftBench(ModelManifest manifest, Path model, String python, Path pythonPath) {
        this.manifest = manifest;
        this.model = model;
        this.python = python;
        this.pythonPath = pythonPath;
    }

    /** The rows of the JPEG photos under {@code folder} (recursively), smallest group first. */
    List<Row> run(Path folder, double seconds, int rounds) throws Exception {
        Map<Integer, List<Path>> groups = groups(folder);
        Path work = Files.createTempDirectory("vqrae-bench-draft-");
        List<Row> rows = new ArrayList<>();
        try (DecodeLimit exact = new DecodeLimit(manifest, python, pythonPath, 1, seconds, false);
                DecodeLimit draft = new DecodeLimit(manifest, python, pythonPath, 1, seconds, true);
                TokenizerSession tokenizer = TokenizerSession.open(SessionConfig.cpu(manifest))) {
            for (Map.Entry<Integer, List<Path>> group : groups.entrySet()) {
                String name = groupName(group.getKey());
                Path links = Files.createDirectories(work.resolve("group-" + group.getKey()));
                List<byte[]> payloads = new ArrayList<>();
                for (Path photo : group.getValue()) {
                    payloads.add(Files.readAllBytes(photo));
                    Files.createSymbolicLink(links.resolve(payloads.size() + ".jpg"), photo.toAbsolutePath());
                }
                exact.warmUp(List.of(payloads));
                draft.warmUp(List.of(payloads));
                List<DecodeLimit.Rates> exactRounds = new ArrayList<>();
                List<DecodeLimit.Rates> draftRounds = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    exactRounds.add(exact.measure(name, payloads, links, seconds, 1, 1));
                    draftRounds.add(draft.measure(name, payloads, links, seconds, 1, 1));
                }
                double[] agreement = agreement(tokenizer, group.getValue(), payloads, work);
                rows.add(new Row(name, payloads.size(), median(name, exactRounds), median(name, draftRounds), agreement[0], agreement[1]));
            }
        } finally {
            FileUtils.deleteDirectory(work.toFile());
        }
        return rows;
    }

    /** The photos by size group: index into {@link #GROUP_BOUNDS_MP} of the first bound above their megapixels. */
    private static Map<Integer, List<Path>> groups(Path folder) throws IOException {
        Map<Integer, List<Path>> groups = new TreeMap<>();
        List<Path> photos;
        try (Stream<Path> walk = Files.walk(folder)) {
            photos = walk.filter(p -> p.toString().toLowerCase(Locale.ROOT).matches(".*\\.jpe?g")).sorted().toList();
        }
        for (Path photo : photos) {
            double megapixels = pixels(photo) / 1e6;
            int group = 0;
            while (group < GROUP_BOUNDS_MP.length && megapixels >= GROUP_BOUNDS_MP[group]) {
                group++;
            }
            groups.computeIfAbsent(2 * group + (progressive(Files.readAllBytes(photo)) ? PROGRESSIVE : 0), g -> new ArrayList<>())
                    .add(photo);
        }
        if (groups.isEmpty()) {
            throw new IOException("No JPEG photos under " + folder + " (bin/setup installs Debian's wallpapers there)");
        }
        return groups;
    }

    private static long pixels(Path jpeg) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(jpeg.toFile())) {
            ImageReader reader = ImageIO.getImageReaders(in).next();
            try {
                reader.setInput(in);
                return (long) reader.getWidth(0) * reader.getHeight(0);
            } finally {
                reader.dispose();
            }
        }
    }

    private static String groupName(int key) {
        int group = key / 2;
        String low = group == 0 ? "1" : fmt(GROUP_BOUNDS_MP[group - 1]);
        String size = group == GROUP_BOUNDS_MP.length ? ">= " + low + " MP" : low + "-" + fmt(GROUP_BOUNDS_MP[group]) + " MP";
        return size + ((key & PROGRESSIVE) != 0 ? " progressive" : " baseline");
    }

    /** Whether a JPEG's frame header is progressive (SOF2, SOF6, SOF10, SOF14), from its marker segments. */
    static boolean progressive(byte[] jpeg) {
        int pos = 2;
        while (pos + 4 <= jpeg.length && (jpeg[pos] & 0xff) == 0xff) {
            int marker = jpeg[pos + 1] & 0xff;
            if (marker == 0xda || marker == 0xd9) {
                return false;
            }
            if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {
                return (marker & 0x03) == 0x02;
            }
            pos += 2 + (((jpeg[pos + 2] & 0xff) << 8) | (jpeg[pos + 3] & 0xff));
        }
        return false;
    }

    private static String fmt(double value) {
        return String.format(Locale.ROOT, "%.0f", value);
    }

    private static DecodeLimit.Rates median(String group, List<DecodeLimit.Rates> rounds) {
        return new DecodeLimit.Rates(group, rounds.get(0).files(),
                Timing.median(rounds.stream().map(DecodeLimit.Rates::java).toList()),
                Timing.median(rounds.stream().map(DecodeLimit.Rates::pillow).toList()),
                Timing.median(rounds.stream().map(DecodeLimit.Rates::ratio).toList()));
    }

    /** Mean shares of token positions: draft = exact (Java), and Java draft = PyTorch on Pillow's draft. */
    private double[] agreement(TokenizerSession tokenizer, List<Path> photos, List<byte[]> payloads, Path work) throws Exception {
        Preprocessor preprocessor = new Preprocessor(manifest.preprocessing());
        ImageDecoder whole = manifest.imageDecoder().build();
        ImageDecoder drafts = manifest.imageDecoder().draft(manifest.imageWidth(), manifest.imageHeight()).build();
        List<byte[]> exactInputs = new ArrayList<>();
        List<byte[]> draftInputs = new ArrayList<>();
        for (byte[] payload : payloads) {
            exactInputs.add(preprocessor.toChw(whole.decode(payload)));
            draftInputs.add(preprocessor.toChw(drafts.decode(payload)));
        }
        EncodedBatch exact = tokenizer.encode(exactInputs);
        EncodedBatch draft = tokenizer.encode(draftInputs);
        int[][] pytorch = pytorchDraftTokens(photos, work);
        double sameAsExact = 0;
        double sameAsPytorch = 0;
        for (int i = 0; i < payloads.size(); i++) {
            sameAsExact += share(draft.tokenIds(i), exact.tokenIds(i));
            sameAsPytorch += share(draft.tokenIds(i), pytorch[i]);
        }
        return new double[] {sameAsExact / payloads.size(), sameAsPytorch / payloads.size()};
    }

    private static double share(int[] a, int[] b) {
        int same = 0;
        for (int t = 0; t < a.length; t++) {
            same += a[t] == b[t] ? 1 : 0;
        }
        return (double) same / a.length;
    }

    /** Pillow's draft + resize ({@code vqrae.preprocess --draft}), then PyTorch's tokens ({@code vqrae.reference encode}). */
    private int[][] pytorchDraftTokens(List<Path> photos, Path work) throws Exception {
        Path dir = Files.createTempDirectory(work, "pytorch-");
        PreprocessSpec spec = manifest.preprocessing();
        List<String> preprocess = new ArrayList<>(List.of(python, "-m", "vqrae.preprocess", "--draft",
                "--size", String.valueOf(spec.height()), String.valueOf(spec.width()),
                "--filter", spec.filter().name().toLowerCase(Locale.ROOT), "--crop", spec.crop().name().toLowerCase(Locale.ROOT),
                "--out", dir.resolve("pixels.npy").toString()));
        photos.forEach(photo -> preprocess.add(photo.toString()));
        runPython(preprocess);
        runPython(List.of(python, "-m", "vqrae.reference", "encode", "--model-dir", model.toString(),
                "--input", dir.resolve("pixels.npy").toString(), "--out-dir", dir.toString()));
        int[] ids = Npy.read(dir.resolve("token_ids.npy")).int64AsInt();
        int tokens = manifest.numTokens();
        int[][] byPhoto = new int[photos.size()][];
        for (int i = 0; i < photos.size(); i++) {
            byPhoto[i] = Arrays.copyOfRange(ids, i * tokens, (i + 1) * tokens);
        }
        return byPhoto;
    }

    private void runPython(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PYTHONPATH", pythonPath.toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command.subList(0, 4)) + " failed: " + output);
        }
    }
}
