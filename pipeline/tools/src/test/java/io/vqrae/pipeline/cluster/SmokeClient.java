package io.vqrae.pipeline.cluster;

import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.SampleImages;
import io.vqrae.pipeline.job.JobPlan;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.corpus.CorpusReader;
import io.vqrae.pipeline.testing.TarShard;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.PluginUtils;
import org.apache.flink.util.FileUtils;

/**
 * The client side of a cluster run ({@code bin/smoke-cluster}): writes the demo's sample images to a job's
 * input topic, and afterwards checks the job's committed outputs id by id.
 *
 * <pre>
 * produce BOOTSTRAP MODEL_DIR TOPIC_SUFFIX SAMPLES IDS_FILE   writes the inputs, lists them in IDS_FILE, prints their count
 * check   BOOTSTRAP MODEL_DIR TOPIC_SUFFIX IDS_FILE           prints "TOKENS FEATURES DEAD_LETTERS"; exit 3 on any mismatch
 * shard   SAMPLES SHARD IDS_FILE                              writes the samples as a WebDataset shard, prints their count
 * upload  FILE URI                                            copies FILE to URI (s3://...) with the cluster's filesystems
 * check-corpus OUTPUT_DIR IDS_FILE                            the same check on a tokenize-corpus output folder (local or s3://...)
 * stream  BOOTSTRAP MODEL_DIR TOPIC_SUFFIX IMAGES RATE PARTITIONS IDS_FILE
 *                                                             creates the topics, lists IMAGES ids in IDS_FILE, then
 *                                                             writes them at RATE images/s (a fault campaign's input)
 * campaign-check BOOTSTRAP MODEL_DIR TOPIC_SUFFIX IDS_FILE RUN TM_KILLS JM_KILLS BROKER_RESTARTS JOB_RESTARTS SECONDS
 *                                                             waits for the committed outputs to stop growing, prints
 *                                                             the campaign line, records it as RUN in the cluster-faults
 *                                                             section of docs/RELIABILITY.md; exit 3 unless exactly once
 * </pre>
 *
 * Every good input must have exactly one token and one feature record with a full token grid, every broken
 * one exactly one dead letter, and nothing else may be there.
 */
public final class SmokeClient {
    private static final String GOOD = "good";
    private static final String BROKEN = "bad";

    private SmokeClient() {}

    public static void main(String[] args) throws Exception {
        switch (args.length == 0 ? "" : args[0]) {
            case "produce" -> System.out.println(produce(config(args[1], args[2], args[3]), Integer.parseInt(args[4]), Path.of(args[5])));
            case "check" -> System.exit(check(config(args[1], args[2], args[3]), Path.of(args[4])) ? 0 : 3);
            case "shard" -> System.out.println(shard(Integer.parseInt(args[1]), Path.of(args[2]), Path.of(args[3])));
            case "upload" -> upload(Path.of(args[1]), args[2]);
            case "check-corpus" -> {
                initializeFileSystems();
                System.exit(checkCorpus(args[1], Path.of(args[2])) ? 0 : 3);
            }
            case "stream" -> stream(config(args[1], args[2], args[3], Integer.parseInt(args[6])), Integer.parseInt(args[4]),
                    Double.parseDouble(args[5]), Path.of(args[7]));
            case "campaign-check" -> System.exit(FaultCampaign.check(config(args[1], args[2], args[3]), Path.of(args[4]),
                    new FaultCampaign.Faults(args[5], Integer.parseInt(args[6]), Integer.parseInt(args[7]), Integer.parseInt(args[8]),
                            Integer.parseInt(args[9]), Integer.parseInt(args[10]))) ? 0 : 3);
            default -> {
                System.err.println("usage: produce BOOTSTRAP MODEL_DIR TOPIC_SUFFIX SAMPLES IDS_FILE | check BOOTSTRAP MODEL_DIR"
                        + " TOPIC_SUFFIX IDS_FILE | shard SAMPLES SHARD IDS_FILE | upload FILE URI | check-corpus OUTPUT_DIR IDS_FILE | stream ..."
                        + " | campaign-check ... (see the class comment)");
                System.exit(2);
            }
        }
    }

    /**
     * This JVM's filesystems set up as the cluster's processes set up theirs: from the Flink configuration in
     * {@code FLINK_CONF_DIR} (the S3 endpoint) and the plugins in {@code FLINK_PLUGINS_DIR} (flink-s3-fs-hadoop).
     */
    private static void initializeFileSystems() {
        Configuration flink = GlobalConfiguration.loadConfiguration();
        FileSystem.initialize(flink, PluginUtils.createPluginManagerFromRootFolder(flink));
    }

    /** Copies a local file to {@code uri}, as a user puts a corpus's shards into a bucket. */
    static void upload(Path file, String uri) throws IOException {
        initializeFileSystems();
        org.apache.flink.core.fs.Path target = new org.apache.flink.core.fs.Path(uri);
        try (OutputStream out = target.getFileSystem().create(target, FileSystem.WriteMode.NO_OVERWRITE)) {
            Files.copy(file, out);
        }
    }

    /** Writes the samples as one img2dataset-style shard (KEY.EXT + KEY.json) and lists each key as good or broken. */
    static int shard(int samples, Path shard, Path idsFile) throws Exception {
        List<String> lines = withSampleImages(samples, files -> {
            List<String> written = new ArrayList<>();
            try (TarShard tar = TarShard.create(shard)) {
                int index = 0;
                for (Path file : files) {
                    String name = file.getFileName().toString();
                    String key = String.format("%09d", index++);
                    tar.put(key + name.substring(name.lastIndexOf('.')), Files.readAllBytes(file));
                    tar.put(key + ".json", ("{\"file\": \"" + name + "\"}").getBytes(StandardCharsets.UTF_8));
                    written.add((SampleImages.isBroken(name) ? BROKEN : GOOD) + " " + key);
                }
            }
            return written;
        });
        Files.write(idsFile, lines);
        return lines.size();
    }

    /** Reads a tokenize-corpus output folder sample by sample and compares it with the ids written; prints the counts. */
    static boolean checkCorpus(String output, Path idsFile) throws IOException {
        Set<String> good = new TreeSet<>();
        Set<String> broken = new TreeSet<>();
        readIds(idsFile, good, broken);
        CorpusReader reader = CorpusReader.open(output, false, false);
        List<String> problems = new ArrayList<>();
        long counted = reader.manifest().get("counts").get("tokens").asLong();
        List<String> tokens = new ArrayList<>();
        reader.forEach(sample -> {
            if (sample.duplicateOf() != null) {
                return; // another copy of an image tokenized under its first id
            }
            tokens.add(sample.id());
            if (sample.tokenIds().length != sample.gridHeight() * sample.gridWidth() || sample.features() == null) {
                problems.add(sample.id() + " has " + sample.tokenIds().length + " token ids or no features");
            }
        });
        Collections.sort(tokens);
        if (!tokens.equals(List.copyOf(good))) {
            problems.add("sample ids " + tokens + " != good inputs " + good);
        }
        long samples = tokens.size();
        if (counted != good.size() || samples != counted) {
            problems.add("_SUCCESS.json counts " + counted + " token records, the output holds " + samples + ", " + good.size() + " expected");
        }
        List<String> dead = reader.deadLetters().stream().map(DeadLetterRecord::getId).map(String::valueOf).sorted().toList();
        if (!dead.equals(List.copyOf(broken))) {
            problems.add("dead-letter ids " + dead + " != broken inputs " + broken);
        }
        problems.forEach(problem -> System.err.println("  MISMATCH: " + problem));
        System.out.println(samples + " " + dead.size());
        return problems.isEmpty();
    }

    static void readIds(Path idsFile, Set<String> good, Set<String> broken) throws IOException {
        for (String line : Files.readAllLines(idsFile)) {
            String[] parts = line.split(" ", 2);
            (parts[0].equals(GOOD) ? good : broken).add(parts[1]);
        }
    }

    /** The job's topics with {@code suffix}, as the cluster job is configured. */
    static JobConfig config(String bootstrap, String modelDir, String suffix) {
        return JobConfig.fromMap(settings(bootstrap, modelDir, suffix));
    }

    /** As {@link #config(String, String, String)}, creating topics with {@code partitions} partitions. */
    static JobConfig config(String bootstrap, String modelDir, String suffix, int partitions) {
        Map<String, String> settings = new HashMap<>(settings(bootstrap, modelDir, suffix));
        settings.put("kafka.topic-partitions", Integer.toString(partitions));
        return JobConfig.fromMap(settings);
    }

    private static Map<String, String> settings(String bootstrap, String modelDir, String suffix) {
        return Map.of(
                "kafka.bootstrap-servers", bootstrap,
                "model.dir", modelDir,
                "kafka.topics.input", "vqrae.images" + suffix,
                "kafka.topics.tokens", "vqrae.tokens" + suffix,
                "kafka.topics.features", "vqrae.features" + suffix,
                "kafka.topics.dead-letter", "vqrae.dead-letter" + suffix);
    }

    /**
     * Creates the topics, lists the ids, then writes {@code images} inputs at {@code rate} per second: a few
     * dozen distinct scenes under distinct ids, every 20th input one of the broken files. The ids file is
     * complete before the first send, so the harness may start the job once it exists.
     */
    static void stream(JobConfig config, int images, double rate, Path idsFile) throws Exception {
        JobPlan.resolve(config, "smoke");
        withSampleImages(40, files -> {
            List<Path> scenes = new ArrayList<>();
            List<Path> brokenFiles = new ArrayList<>();
            files.forEach(file -> (SampleImages.isBroken(file.getFileName().toString()) ? brokenFiles : scenes).add(file));
            List<String> ids = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            List<Path> sources = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                boolean broken = i % 20 == 19;
                ids.add(String.format("img-%06d", i));
                lines.add((broken ? BROKEN : GOOD) + " " + ids.get(i));
                sources.add(broken ? brokenFiles.get(i / 20 % brokenFiles.size()) : scenes.get(i % scenes.size()));
            }
            Path partial = idsFile.resolveSibling(idsFile.getFileName() + ".partial");
            Files.write(partial, lines);
            Files.move(partial, idsFile);
            long start = System.nanoTime();
            try (InputWriter writer = new InputWriter(config.kafka())) {
                for (int i = 0; i < images; i++) {
                    long wait = start + (long) (i * 1e9 / rate) - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    Path source = sources.get(i);
                    writer.sendAsync(ids.get(i), Files.readAllBytes(source), source.toUri().toString());
                }
            }
            return null;
        });
    }

    /** Creates the topics as the job would, writes the samples, and lists each id as good or broken. */
    static int produce(JobConfig config, int samples, Path idsFile) throws Exception {
        JobPlan.resolve(config, "smoke");
        List<String> lines = withSampleImages(samples, files -> {
            List<String> written = new ArrayList<>();
            try (InputWriter writer = new InputWriter(config.kafka())) {
                for (Path file : files) {
                    String id = file.getFileName().toString();
                    writer.send(id, Files.readAllBytes(file), file.toUri().toString());
                    written.add((SampleImages.isBroken(id) ? BROKEN : GOOD) + " " + id);
                }
            }
            return written;
        });
        Files.write(idsFile, lines);
        return lines.size();
    }

    /** What is done with the sample files, sorted by name, while they exist. */
    @FunctionalInterface
    private interface SampleFiles<T> {
        T use(List<Path> files) throws Exception;
    }

    /** Writes {@code good} scenes and the broken files to a temporary folder, hands them to {@code action}, deletes them. */
    private static <T> T withSampleImages(int good, SampleFiles<T> action) throws Exception {
        Path dir = Files.createTempDirectory("smoke-images-");
        try {
            SampleImages.write(dir, good);
            List<Path> files;
            try (Stream<Path> list = Files.list(dir)) {
                files = list.sorted().toList();
            }
            return action.use(files);
        } finally {
            FileUtils.deleteDirectory(dir.toFile());
        }
    }

    /** Reads the committed outputs and compares them with the ids written; prints the counts. */
    static boolean check(JobConfig config, Path idsFile) throws IOException {
        Set<String> good = new TreeSet<>();
        Set<String> broken = new TreeSet<>();
        readIds(idsFile, good, broken);
        OutputReader.Outputs out = OutputReader.readCommitted(config.kafka(), Duration.ofSeconds(60));
        List<String> tokens = out.tokens().stream().map(TokenRecord::getId).sorted().toList();
        List<String> features = out.features().stream().map(FeatureRecord::getId).sorted().toList();
        List<String> dead = out.deadLetters().stream().map(DeadLetterRecord::getId).map(String::valueOf).sorted().toList();
        List<String> problems = new ArrayList<>();
        if (!tokens.equals(List.copyOf(good))) {
            problems.add("token ids " + tokens + " != good inputs " + good);
        }
        if (!features.equals(List.copyOf(good))) {
            problems.add("feature ids " + features + " != good inputs " + good);
        }
        if (!dead.equals(List.copyOf(broken))) {
            problems.add("dead-letter ids " + dead + " != broken inputs " + broken);
        }
        for (TokenRecord record : out.tokens()) {
            int ids = TokenIds.decode(record.getTokenIds(), record.getDtype()).length;
            if (ids != record.getGridHeight() * record.getGridWidth()) {
                problems.add(record.getId() + " has " + ids + " token ids for a " + record.getGridHeight() + "x" + record.getGridWidth() + " grid");
            }
        }
        for (DeadLetterRecord record : out.deadLetters()) {
            System.err.println("  dead letter " + record.getId() + ": stage=" + record.getStage() + " reason=" + record.getReason());
        }
        problems.forEach(problem -> System.err.println("  MISMATCH: " + problem));
        System.out.println(tokens.size() + " " + features.size() + " " + dead.size());
        return problems.isEmpty();
    }
}
