package io.vqrae.pipeline.corpus.format.webdataset;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vqrae.pipeline.corpus.format.webdataset.internal.ShardRecords;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * The index of a run's WebDataset shards, {@code shards.json}, in the shard-list layout of WebDataset's
 * indexed reader ({@code wids}): every shard with its sample count and size, so a data loader splits the
 * samples over ranks and workers without listing or opening a shard. Shard URLs are relative to the index.
 *
 * <p>While a run writes, the committer records each shard it publishes ({@link ShardRecords}); when the run
 * completes the records become the index ({@link #write}).
 *
 * @param kind always {@value #KIND}
 * @param version the wids layout version, 1
 * @param name the dataset's name
 * @param shards the shards, by name
 */
public record ShardIndex(
        @JsonProperty("__kind__") String kind, @JsonProperty("wids_version") int version, String name,
        @JsonProperty("shardlist") List<ShardRecords.Shard> shards) {

    /** The file name of the index in the shard folder. */
    public static final String FILE_NAME = "shards.json";
    static final String KIND = "wids-shard-index-v1";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The samples of every shard. */
    public long samples() {
        return shards.stream().mapToLong(ShardRecords.Shard::samples).sum();
    }

    /**
     * Writes {@code folder/shards.json} from the shards the committer recorded there, and removes the records.
     *
     * @return the index written
     */
    public static ShardIndex write(Path folder, String name) throws IOException {
        List<ShardRecords.Shard> shards = new ArrayList<>(ShardRecords.list(folder));
        shards.sort(Comparator.comparing(ShardRecords.Shard::url));
        ShardIndex index = new ShardIndex(KIND, 1, name, List.copyOf(shards));
        Path path = new Path(folder, FILE_NAME);
        try (OutputStream out = path.getFileSystem().create(path, FileSystem.WriteMode.OVERWRITE)) {
            JSON.writeValue(out, index);
        }
        ShardRecords.remove(folder);
        return index;
    }

    /** Reads {@code folder/shards.json}, or returns null when the folder has none. */
    public static ShardIndex read(Path folder) throws IOException {
        Path path = new Path(folder, FILE_NAME);
        FileSystem fs = path.getFileSystem();
        if (!fs.exists(path)) {
            return null;
        }
        try (InputStream in = fs.open(path)) {
            return JSON.readValue(in, ShardIndex.class);
        }
    }
}
