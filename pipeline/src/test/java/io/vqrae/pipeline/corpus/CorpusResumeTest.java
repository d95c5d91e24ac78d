package io.vqrae.pipeline.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.cli.VqraeCli;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.CorpusReader;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.testing.ChildJvm;
import io.vqrae.pipeline.testing.ParquetFiles;
import io.vqrae.pipeline.testing.TarShard;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.io.FileUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code tokenize-corpus} stopped the ways a long run gets stopped, and resumed by running the same command
 * again, as a user would: the command runs in a JVM of its own, which the test kills with {@code kill -9} at
 * random moments (each after the run completed a checkpoint since it started, then 0-2.5 s more), or stops
 * with Ctrl-C (SIGINT). The corpus has over 2,000 inputs: captioned images in shards and a loose folder, exact
 * duplicates inside a shard, across shards and between shards and the folder, and a broken image twice.
 */
class CorpusResumeTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = Long.getLong("vqrae.resume.seed", System.nanoTime());

    @TempDir
    static Path corpusDir;

    /** Every input id -> its image's bytes. */
    private static final Map<String, byte[]> IMAGES = new LinkedHashMap<>();
    /** Ids whose bytes do not decode. */
    private static final List<String> BROKEN = new ArrayList<>();
    /** Inputs whose pixels are those of base scene i (for tokens that must agree). */
    private static final Map<String, Integer> BASE = new HashMap<>();
    private static final List<String> INPUTS = new ArrayList<>();

    @BeforeAll
    static void writeCorpus() throws IOException {
        Path bases = corpusDir.resolve("bases");
        SampleImages.write(bases, 30);
        List<byte[]> scenes = new ArrayList<>();
        try (Stream<Path> files = Files.list(bases)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("scene-")).sorted().toList()) {
                scenes.add(Files.readAllBytes(file));
            }
        }
        Random random = new Random(20261206L);
        List<String> ids = new ArrayList<>();
        for (int shard = 0; shard < 8; shard++) {
            Path tar = corpusDir.resolve(String.format("shards/%05d.tar", shard));
            Files.createDirectories(tar.getParent());
            try (TarShard out = TarShard.create(tar)) {
                for (int i = 0; i < 250; i++) {
                    String key = String.format("%05d%04d", shard, i);
                    byte[] image;
                    if (i % 20 == 19) {
                        // An exact copy of an earlier input, in this shard or an earlier one.
                        String original = ids.get(random.nextInt(ids.size()));
                        image = IMAGES.get(original);
                        if (BROKEN.contains(original)) {
                            BROKEN.add(key);
                        } else {
                            BASE.put(key, BASE.get(original));
                        }
                    } else {
                        int base = random.nextInt(scenes.size());
                        image = variant(scenes.get(base), key);
                        BASE.put(key, base);
                    }
                    if (shard == 3 && i < 2) {
                        image = Arrays.copyOf(scenes.get(0), 500);
                        BROKEN.add(key);
                        BASE.remove(key);
                    }
                    out.put(key + ".jpg", image).put(key + ".txt", ("caption " + key).getBytes(StandardCharsets.UTF_8))
                            .put(key + ".json", ("{\"key\": \"" + key + "\"}").getBytes(StandardCharsets.UTF_8));
                    IMAGES.put(key, image);
                    ids.add(key);
                }
            }
            INPUTS.add(tar.toString());
        }
        Path loose = Files.createDirectories(corpusDir.resolve("loose"));
        for (int i = 0; i < 60; i++) {
            String name = String.format("photo-%03d.jpg", i);
            String original = i < 30 ? ids.get(random.nextInt(ids.size())) : null;
            byte[] image = original != null ? IMAGES.get(original) : variant(scenes.get(i % scenes.size()), name);
            Files.write(loose.resolve(name), image);
            Files.writeString(loose.resolve(String.format("photo-%03d.txt", i)), "caption of " + name);
            IMAGES.put(name, image);
            if (BROKEN.contains(original)) {
                BROKEN.add(name);
            } else {
                BASE.put(name, original != null ? BASE.get(original) : i % scenes.size());
            }
        }
        INPUTS.add(loose.toString());
        assertThat(IMAGES).hasSizeGreaterThanOrEqualTo(2000);
    }

    /** The scene's bytes with a tag after its end: other bytes (another SHA-256), the same pixels. */
    private static byte[] variant(byte[] scene, String tag) {
        byte[] suffix = tag.getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(scene, scene.length + suffix.length);
        System.arraycopy(suffix, 0, out, scene.length, suffix.length);
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = JobConfig.OutputFormat.class, names = {"WEBDATASET", "PARQUET"})
    void killedThreeTimesAtRandomMomentsAndRunAgainEachTimeEveryInputEndsOnce(JobConfig.OutputFormat format, @TempDir Path work)
            throws Exception {
        Random random = new Random(SEED + format.ordinal());
        Path out = work.resolve("out");
        Path log = work.resolve("runs.log");
        List<String> command = command(out, format, MODEL_DIR);
        for (int kill = 1; kill <= 3; kill++) {
            long delayMillis = random.nextInt(2_500);
            Process run = ChildJvm.start(command, log);
            awaitNewCheckpoint(out, run, log);
            Thread.sleep(delayMillis);
            run.destroyForcibly(); // SIGKILL
            assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(run.exitValue()).as("kill %d (seed %d), log %s", kill, SEED, log).isEqualTo(137);
        }
        assertThat(runToEnd(command, log)).as("the rerun after three kills (seed %d), log %s", SEED, log).isZero();

        String runs = Files.readString(log);
        assertThat(runs).as("a rerun continued from a checkpoint").contains("tokenize-corpus: resuming the run in");
        assertEveryInputEndsOnce(out, format);
    }

    @Test
    void ctrlCStopsWithASavepointAndSaysHowToResumeAndAnotherModelIsRefused(@TempDir Path work) throws Exception {
        Path out = work.resolve("out");
        Path log = work.resolve("runs.log");
        List<String> command = command(out, JobConfig.OutputFormat.WEBDATASET, MODEL_DIR);
        // As a terminal's Ctrl-C would: SIGINT, which the test's own process may have inherited as ignored.
        List<String> interruptible = new ArrayList<>(List.of(TestPaths.python(), "-c",
                "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"));
        interruptible.addAll(command);
        Process run = ChildJvm.start(interruptible, log);
        awaitNewCheckpoint(out, run, log);
        assertThat(new ProcessBuilder("kill", "-INT", Long.toString(run.pid())).start().waitFor()).isZero();
        assertThat(run.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(run.exitValue()).as("log %s", log).isEqualTo(130);
        String stopped = Files.readString(log);
        assertThat(stopped).contains("tokenize-corpus: stopped on SIGINT after ").contains(", with a savepoint; to resume, run the same command again: vqrae tokenize-corpus --output " + out + " --dedup");

        Path otherModel = work.resolve("other-model");
        FileUtils.copyDirectory(MODEL_DIR.toFile(), otherModel.toFile());
        ObjectNode manifest = (ObjectNode) JSON.readTree(otherModel.resolve("manifest.json").toFile());
        manifest.put("model_version", "retrained");
        JSON.writeValue(otherModel.resolve("manifest.json").toFile(), manifest);
        Path refusedLog = work.resolve("refused.log");
        assertThat(runToEnd(command(out, JobConfig.OutputFormat.WEBDATASET, otherModel), refusedLog)).isEqualTo(2);
        assertThat(Files.readAllLines(refusedLog)).filteredOn(line -> line.startsWith("vqrae: ")).singleElement().satisfies(line ->
                assertThat(line).startsWith("vqrae: --output " + out + " holds a stopped run of something else (model was vqrae-tiny ")
                        .contains(", now vqrae-tiny retrained (").endsWith("): rerun it unchanged, or choose another --output"));

        assertThat(runToEnd(command, log)).as("log %s", log).isZero();
        assertEveryInputEndsOnce(out, JobConfig.OutputFormat.WEBDATASET);
    }

    private static List<String> command(Path out, JobConfig.OutputFormat format, Path model) throws IOException {
        List<String> args = new ArrayList<>(List.of("tokenize-corpus", "--output", out.toString(), "--dedup",
                "--format", format.name().toLowerCase(Locale.ROOT), "--model", model.toString(),
                "--set", "checkpoint.interval=1s", "--set", "batching.max-size=8", "--set", "parallelism.decode=2",
                "--set", "corpus.samples-per-shard=300", "--input"));
        args.addAll(INPUTS);
        return ChildJvm.command(List.of("-Xmx2g"), VqraeCli.class.getName(), args);
    }

    private static int runToEnd(List<String> command, Path log) throws Exception {
        Process run = ChildJvm.start(command, log);
        if (!run.waitFor(5, TimeUnit.MINUTES)) {
            run.destroyForcibly();
            throw new AssertionError("tokenize-corpus did not end within 5 minutes; log " + log);
        }
        return run.exitValue();
    }

    /** Waits until the run completed a checkpoint after it started (a newer {@code _metadata} in its state folder). */
    private static void awaitNewCheckpoint(Path out, Process run, Path log) throws Exception {
        long started = System.currentTimeMillis();
        long deadline = started + TimeUnit.MINUTES.toMillis(3);
        while (System.currentTimeMillis() < deadline) {
            assertThat(run.isAlive()).as("tokenize-corpus ended before a checkpoint; log %s", log).isTrue();
            Path checkpoints = out.resolve(CorpusRun.STATE_FOLDER).resolve("checkpoints");
            if (Files.isDirectory(checkpoints)) {
                try (Stream<Path> files = Files.walk(checkpoints)) {
                    if (files.anyMatch(f -> f.getFileName().toString().equals("_metadata") && f.toFile().lastModified() >= started)) {
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("No checkpoint within 3 minutes; log " + log);
    }

    /**
     * Every input once, as a tokenized sample, a duplicate naming an input of the same bytes, or a dead letter
     * (the broken image's first copy); inputs of the same pixels have the same tokens; the counts of
     * {@code _SUCCESS.json} are what the files hold.
     */
    private static void assertEveryInputEndsOnce(Path out, JobConfig.OutputFormat format) throws IOException {
        Map<String, int[]> tokenized = new HashMap<>();
        Map<String, String> duplicateOf = new HashMap<>();
        CorpusReader reader = CorpusReader.open(out.toString(), false, false);
        if (format == JobConfig.OutputFormat.WEBDATASET) {
            reader.forEach(sample -> {
                if (sample.duplicateOf() == null) {
                    assertThat(tokenized.put(sample.id(), sample.tokenIds())).as("second sample of " + sample.id()).isNull();
                } else {
                    assertThat(duplicateOf.put(sample.id(), sample.duplicateOf())).as("second sample of " + sample.id()).isNull();
                    assertThat(sample.text()).as(sample.id()).isNotNull();
                }
            });
        } else {
            for (TokenRecord record : ParquetFiles.readFolder(out.resolve(OutputFolders.TOKENS), TokenRecord.class)) {
                assertThat(tokenized.put(record.getId(), TokenIds.decode(record.getTokenIds(), record.getDtype())))
                        .as("second token record of " + record.getId()).isNull();
            }
            reader.duplicates().forEach(record -> assertThat(duplicateOf.put(record.getId(), record.getDuplicateOf()))
                    .as("second duplicate record of " + record.getId()).isNull());
        }
        Map<String, String> deadLetters = new HashMap<>();
        for (DeadLetterRecord record : reader.deadLetters()) {
            assertThat(deadLetters.put(record.getId(), record.getReason())).as("second dead letter of " + record.getId()).isNull();
        }
        List<String> all = new ArrayList<>(tokenized.keySet());
        all.addAll(duplicateOf.keySet());
        all.addAll(deadLetters.keySet());
        assertThat(all).as("every input exactly once").containsExactlyInAnyOrderElementsOf(IMAGES.keySet());

        duplicateOf.forEach((id, first) -> {
            assertThat(sha256(IMAGES.get(first))).as(id + " duplicates " + first).isEqualTo(sha256(IMAGES.get(id)));
            assertThat(tokenized.containsKey(first) || deadLetters.containsKey(first)).as(id + " names " + first).isTrue();
        });
        assertThat(deadLetters).hasSize(1).containsValue("truncated");
        assertThat(BROKEN).containsAll(deadLetters.keySet());
        Map<Integer, int[]> tokensOfBase = new HashMap<>();
        tokenized.forEach((id, tokens) -> {
            int[] same = tokensOfBase.putIfAbsent(BASE.get(id), tokens);
            if (same != null) {
                assertThat(tokens).as("%s has the pixels of base scene %d", id, BASE.get(id)).containsExactly(same);
            }
        });

        CorpusManifest.Counts counts = JSON.treeToValue(reader.manifest().get("counts"), CorpusManifest.Counts.class);
        assertThat(counts).isEqualTo(new CorpusManifest.Counts(IMAGES.size(), tokenized.size(),
                tokenized.size(), deadLetters.size(), duplicateOf.size()));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
