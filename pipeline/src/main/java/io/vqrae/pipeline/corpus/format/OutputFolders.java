package io.vqrae.pipeline.corpus.format;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/** The folders under a corpus job's output folder, and the committed files in them. */
public final class OutputFolders {
    /** WebDataset shards and their index. */
    public static final String WEBDATASET = "webdataset";
    /** TokenRecord files (Avro, Parquet). */
    public static final String TOKENS = "tokens";
    /** FeatureRecord files (Avro, Parquet). */
    public static final String FEATURES = "features";
    /** DuplicateRecord files (Avro; with Avro and Parquet output). */
    public static final String DUPLICATES = "duplicates";
    /** DeadLetterRecord files (Avro, every format). */
    public static final String DEAD_LETTERS = "dead-letters";

    private OutputFolders() {}

    /**
     * The committed files of {@code folder} under {@code output} with {@code suffix}, by name; in-progress and
     * pending files are hidden (a leading dot), and names starting with {@code _} are metadata. None when the
     * folder does not exist.
     */
    public static List<Path> committedFiles(Path output, String folder, String suffix) throws IOException {
        Path path = new Path(output, folder);
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
