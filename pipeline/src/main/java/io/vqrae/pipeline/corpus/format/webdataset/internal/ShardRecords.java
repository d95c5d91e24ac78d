package io.vqrae.pipeline.corpus.format.webdataset.internal;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * The published shards of a run, each recorded by the committer as a small file of its own under
 * {@code _shards/} (one write per shard, never a read-modify-write of a shared file), until the run completes
 * and the records become the index.
 */
public final class ShardRecords {
    private static final String FOLDER = "_shards";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One published shard.
     *
     * @param url its file name, relative to the shard folder
     * @param samples the samples it holds
     * @param bytes its size
     */
    public record Shard(String url, @JsonProperty("nsamples") int samples, @JsonProperty("filesize") long bytes) {}

    private ShardRecords() {}

    /** Records a published shard of {@code folder} (idempotent: the record is named after the shard). */
    static void record(Path folder, Shard shard) throws IOException {
        Path path = new Path(new Path(folder, FOLDER), shard.url() + ".json");
        try (OutputStream out = path.getFileSystem().create(path, FileSystem.WriteMode.OVERWRITE)) {
            JSON.writeValue(out, shard);
        }
    }

    /** The shards recorded in {@code folder}, in no particular order. */
    public static List<Shard> list(Path folder) throws IOException {
        Path records = new Path(folder, FOLDER);
        FileSystem fs = records.getFileSystem();
        List<Shard> shards = new ArrayList<>();
        FileStatus[] listed = fs.exists(records) ? fs.listStatus(records) : null;
        for (FileStatus status : listed == null ? new FileStatus[0] : listed) {
            try (InputStream in = fs.open(status.getPath())) {
                shards.add(JSON.readValue(in, Shard.class));
            }
        }
        return shards;
    }

    /** Removes the records once they are in the index. */
    public static void remove(Path folder) throws IOException {
        Path records = new Path(folder, FOLDER);
        records.getFileSystem().delete(records, true);
    }
}
