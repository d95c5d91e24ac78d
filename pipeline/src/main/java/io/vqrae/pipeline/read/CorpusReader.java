package io.vqrae.pipeline.read;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.npy.Npy;
import io.vqrae.pipeline.corpus.CorpusManifest;
import io.vqrae.pipeline.corpus.sink.CorpusSinks;
import io.vqrae.pipeline.corpus.webdataset.ShardIndex;
import io.vqrae.pipeline.corpus.webdataset.TarSamples;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * Reads the output folder of {@code bin/vqrae tokenize-corpus} on the JVM, from any Flink filesystem: the
 * samples of its WebDataset shards or Avro files (Parquet is for Spark, DuckDB and {@code datasets}), its
 * dead letters and its manifest. Like the Python reader, it refuses a folder without {@code _SUCCESS.json}
 * (a run not completed) and samples of two codebooks unless told otherwise, because token ids of different
 * codebooks mean different things.
 */
public final class CorpusReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final boolean allowMixedCodebooks;
    private final JsonNode manifest;

    private CorpusReader(Path root, JsonNode manifest, boolean allowMixedCodebooks) {
        this.root = root;
        this.manifest = manifest;
        this.allowMixedCodebooks = allowMixedCodebooks;
    }

    /**
     * @param output the output folder
     * @param allowIncomplete read a folder without {@code _SUCCESS.json} (a run still going, or failed)
     * @param allowMixedCodebooks read samples of different codebooks without failing
     * @throws IOException if the folder cannot be read, or is incomplete and that is not allowed
     */
    public static CorpusReader open(String output, boolean allowIncomplete, boolean allowMixedCodebooks) throws IOException {
        Path root = new Path(output);
        Path success = new Path(root, CorpusManifest.FILE_NAME);
        JsonNode manifest = null;
        if (root.getFileSystem().exists(success)) {
            try (InputStream in = root.getFileSystem().open(success)) {
                manifest = JSON.readTree(in);
            }
        } else if (!allowIncomplete) {
            throw new IOException(output + " has no " + CorpusManifest.FILE_NAME + ": the run did not complete (allowIncomplete reads it anyway)");
        }
        return new CorpusReader(root, manifest, allowMixedCodebooks);
    }

    /** The run's {@code _SUCCESS.json}, or null for an incomplete folder. */
    public JsonNode manifest() {
        return manifest;
    }

    /**
     * Every sample, tokenized ones and duplicates, in file order; features joined for Avro output (in memory, by id).
     *
     * @throws IOException if a file cannot be read, or the output is Parquet (read that with Spark, DuckDB or parquet-avro)
     */
    public void forEach(Consumer<CorpusSample> action) throws IOException {
        if (!parts(CorpusSinks.TOKENS, ".parquet").isEmpty()) {
            throw new IOException(root + " holds Parquet output, which this reader does not read: use Spark, DuckDB,"
                    + " pandas or parquet-avro (its dead letters and duplicates are Avro and read here)");
        }
        Consumer<CorpusSample> checked = codebookGuard(action);
        for (Path shard : shards()) {
            readShard(shard, checked);
        }
        Map<String, FeatureRecord> features = new HashMap<>();
        readAvro(CorpusSinks.FEATURES, FeatureRecord.class, record -> features.put(record.getId(), record));
        readAvro(CorpusSinks.TOKENS, TokenRecord.class, tokens -> checked.accept(CorpusSample.of(tokens, features.get(tokens.getId()))));
        readAvro(CorpusSinks.DUPLICATES, DuplicateRecord.class, duplicate -> checked.accept(CorpusSample.of(duplicate)));
    }

    /**
     * The WebDataset shards: those of the index a completed run wrote ({@link ShardIndex}), in its order, or
     * those listed in the folder while a run has none.
     */
    public List<Path> shards() throws IOException {
        Path folder = new Path(root, CorpusSinks.WEBDATASET);
        ShardIndex index = folder.getFileSystem().exists(folder) ? ShardIndex.read(folder) : null;
        if (index == null) {
            return parts(CorpusSinks.WEBDATASET, ".tar");
        }
        return index.shards().stream().map(shard -> new Path(folder, shard.url())).toList();
    }

    /** Every duplicate of Avro or Parquet output (WebDataset output holds them among its samples). */
    public List<DuplicateRecord> duplicates() throws IOException {
        List<DuplicateRecord> records = new ArrayList<>();
        readAvro(CorpusSinks.DUPLICATES, DuplicateRecord.class, records::add);
        return records;
    }

    /** Every dead letter. */
    public List<DeadLetterRecord> deadLetters() throws IOException {
        List<DeadLetterRecord> records = new ArrayList<>();
        readAvro(CorpusSinks.DEAD_LETTERS, DeadLetterRecord.class, records::add);
        return records;
    }

    private Consumer<CorpusSample> codebookGuard(Consumer<CorpusSample> action) {
        String[] first = new String[1];
        return sample -> {
            String codebook = sample.codebookSha256();
            if (codebook != null && !allowMixedCodebooks) {
                if (first[0] == null) {
                    first[0] = codebook;
                } else if (!first[0].equals(codebook)) {
                    throw new IllegalStateException("Sample " + sample.id() + " has codebook " + codebook + ", earlier samples "
                            + first[0] + ": token ids of different codebooks are not comparable (allowMixedCodebooks reads them anyway)");
                }
            }
            action.accept(sample);
        };
    }

    private void readShard(Path shard, Consumer<CorpusSample> action) throws IOException {
        try (TarSamples samples = new TarSamples(shard.getFileSystem().open(shard), extension -> Long.MAX_VALUE)) {
            TarSamples.Sample sample;
            while ((sample = samples.next()) != null) {
                action.accept(sample(shard, sample));
            }
        }
    }

    private static CorpusSample sample(Path shard, TarSamples.Sample sample) throws IOException {
        Map<String, byte[]> members = new HashMap<>();
        sample.members().forEach(member -> members.put(member.extension(), member.data()));
        byte[] jsonBytes = members.get("json");
        if (jsonBytes == null) {
            throw new IOException("Sample " + sample.key() + " of " + shard + " has no .json member");
        }
        JsonNode json = JSON.readTree(jsonBytes);
        String metadata = json.path("metadata").isMissingNode() || json.path("metadata").isNull() ? null : json.get("metadata").toString();
        String text = json.path("text").isTextual() ? json.get("text").asText() : null;
        String duplicateOf = json.hasNonNull("duplicate_of") ? json.get("duplicate_of").asText() : null;
        if (duplicateOf != null && !members.containsKey("tokens.npy")) {
            return CorpusSample.duplicate(json.get("id").asText(), json.get("image_sha256").asText(), duplicateOf, metadata, text);
        }
        Npy tokens = Npy.read(members.get("tokens.npy"), shard + "#" + sample.key() + ".tokens.npy");
        CorpusSample.Features features = null;
        JsonNode described = json.get("features");
        if (described != null && !described.isNull()) {
            Npy values = Npy.read(members.get("features.npy"), shard + "#" + sample.key() + ".features.npy");
            byte[] raw = new byte[values.data().remaining()];
            values.data().duplicate().get(raw);
            int[] shape = new int[described.get("shape").size()];
            Arrays.setAll(shape, i -> described.get("shape").get(i).asInt());
            features = new CorpusSample.Features(described.get("kind").asText(), described.get("dtype").asText(), shape, raw);
        }
        return new CorpusSample(json.get("id").asText(), json.get("image_sha256").asText(), duplicateOf, json.get("model_id").asText(),
                json.get("model_version").asText(), json.get("codebook_sha256").asText(),
                json.get("grid").get(0).asInt(), json.get("grid").get(1).asInt(), tokens.ids(),
                (float) json.get("mean_quant_error").asDouble(), features, metadata, text);
    }

    private <T extends SpecificRecordBase> void readAvro(String folder, Class<T> type, Consumer<T> action) throws IOException {
        for (Path file : parts(folder, ".avro")) {
            try (DataFileStream<T> records = new DataFileStream<>(file.getFileSystem().open(file), new SpecificDatumReader<>(type))) {
                for (T record : records) {
                    action.accept(record);
                }
            }
        }
    }

    /**
     * The committed part files of a folder with a suffix, by name; in-progress and pending files are hidden
     * (leading dot). None when the folder does not exist.
     */
    private List<Path> parts(String folder, String suffix) throws IOException {
        Path path = new Path(root, folder);
        FileSystem fs = path.getFileSystem();
        List<Path> files = new ArrayList<>();
        if (!fs.exists(path)) {
            return files;
        }
        for (FileStatus status : fs.listStatus(path)) {
            String name = status.getPath().getName();
            if (!status.isDir() && !name.startsWith(".") && !name.startsWith("_") && name.endsWith(suffix)) {
                files.add(status.getPath());
            }
        }
        files.sort((a, b) -> a.getName().compareTo(b.getName()));
        return files;
    }
}
