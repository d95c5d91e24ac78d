package io.vqrae.pipeline.corpus.format.webdataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.models.npy.Npy;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.corpus.format.CorpusFormat;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.webdataset.internal.SampleTarWriter;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * {@code webdataset}: tar shards of samples ({@code KEY.json}, {@code KEY.tokens.npy}, {@code KEY.features.npy})
 * in {@code webdataset/}, written by a {@link WebDatasetSink}: {@code shard-<writer>-<seq>.tar} for tokenized
 * inputs, {@code duplicates-<writer>-<seq>.tar} for duplicates (each with its own metadata and caption and its
 * image's tokens), and {@code shards.json}, the index ({@link ShardIndex}).
 */
public final class WebDatasetFormat implements CorpusFormat {
    /** Shard name prefixes. */
    public static final String SHARD_PREFIX = "shard";
    public static final String DUPLICATE_SHARD_PREFIX = "duplicates";

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return "webdataset";
    }

    @Override
    public void writeTokenized(DataStream<EncodedSample> samples, Path output, JobConfig.Corpus corpus, int parallelism) {
        shards(samples, RecordKind.TOKENS, output, SHARD_PREFIX, corpus, parallelism);
    }

    @Override
    public void writeDuplicates(DataStream<EncodedSample> duplicates, Path output, JobConfig.Corpus corpus, int parallelism) {
        shards(duplicates, RecordKind.DUPLICATE, output, DUPLICATE_SHARD_PREFIX, corpus, parallelism);
    }

    private static void shards(
            DataStream<EncodedSample> samples, RecordKind kind, Path output, String prefix, JobConfig.Corpus corpus, int parallelism) {
        String name = prefix + "-shards";
        samples.filter(sample -> sample.kind() == kind)
                .name("select-" + name).uid("select-" + name).setParallelism(parallelism)
                .sinkTo(WebDatasetSink.builder(new Path(output, OutputFolders.WEBDATASET)).prefix(prefix)
                        .samplesPerShard(corpus.samplesPerShard()).maxShardBytes(corpus.shardBytes()).build())
                .name(name).uid(name).setParallelism(parallelism);
    }

    /** Writes the index of the shards the run published ({@link ShardIndex}). */
    @Override
    public void complete(Path output, String runName) throws IOException {
        ShardIndex.write(new Path(output, OutputFolders.WEBDATASET), runName);
    }

    @Override
    public void read(Path output, Consumer<CorpusSample> action) throws IOException {
        for (Path shard : shards(output)) {
            readShard(shard, action);
        }
    }

    /**
     * Every sample of one shard this format wrote, in order.
     *
     * @throws IOException if the shard cannot be read, or holds a sample without the members this format writes
     */
    public static void readShard(Path shard, Consumer<CorpusSample> action) throws IOException {
        try (TarSamples samples = new TarSamples(shard.getFileSystem().open(shard), extension -> Long.MAX_VALUE)) {
            TarSamples.Sample sample;
            while ((sample = samples.next()) != null) {
                action.accept(sample(shard, sample));
            }
        }
    }

    /**
     * The id of a sample's key, as member names carry it ({@code flower%2Ejpg.tokens.npy} is sample
     * {@code flower.jpg}): WebDataset cuts keys at the first dot, so the writer escapes dots in ids.
     */
    public static String sampleId(String key) {
        return SampleTarWriter.sampleId(key);
    }

    /**
     * The shards of an output folder: those of the index a completed run wrote, in its order, or those listed
     * in the folder while a run has none.
     */
    public static List<Path> shards(Path output) throws IOException {
        Path folder = new Path(output, OutputFolders.WEBDATASET);
        ShardIndex index = folder.getFileSystem().exists(folder) ? ShardIndex.read(folder) : null;
        if (index == null) {
            return OutputFolders.committedFiles(output, OutputFolders.WEBDATASET, ".tar");
        }
        return index.shards().stream().map(shard -> new Path(folder, shard.url())).toList();
    }

    /** A sample as the shard holds it: a duplicate's JSON alone has no tokens (its image became a dead letter). */
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
}
