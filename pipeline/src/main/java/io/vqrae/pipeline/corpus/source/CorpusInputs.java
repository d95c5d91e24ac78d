package io.vqrae.pipeline.corpus.source;

import io.vqrae.operators.data.InputImage;
import io.vqrae.pipeline.corpus.source.reader.CorpusFileReader;
import io.vqrae.pipeline.corpus.source.reader.ImageFileFormat;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * The inputs of a corpus job as the user named them: folder trees of images, WebDataset {@code .tar} shards,
 * or globs of either, on any filesystem Flink reaches ({@code file://}, {@code s3://}, {@code hdfs://}, or a
 * plain local path). A glob may stand in the last path segment ({@code s3://bucket/laion/*.tar}); it is
 * expanded here, on the client, so a missing input fails before anything runs.
 *
 * <p>Within folders, files whose names start with {@code .} or {@code _} (hidden, in progress) and metadata
 * files ({@code .json}, {@code .txt}, {@code .parquet}: img2dataset's sidecars and shard tables) are not
 * inputs; every other file is, whatever its extension, and the decoder sniffs its format.
 */
public final class CorpusInputs implements Serializable {
    private static final long serialVersionUID = 1L;

    private final List<String> roots;

    private CorpusInputs(List<String> roots) {
        this.roots = roots;
    }

    /**
     * Resolves {@code specs}: each must exist, and a glob must match something.
     *
     * @throws IllegalArgumentException naming the input that does not exist or matches nothing
     */
    public static CorpusInputs resolve(List<String> specs) throws IOException {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("No input: name at least one folder, shard or glob");
        }
        List<String> roots = new ArrayList<>();
        for (String spec : specs) {
            Path path = new Path(spec);
            FileSystem fs = path.getFileSystem();
            String name = path.getName();
            if (name.chars().anyMatch(c -> "*?[{".indexOf(c) >= 0)) {
                PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + name);
                FileStatus[] listed = fs.exists(path.getParent()) ? fs.listStatus(path.getParent()) : null;
                List<String> matches = new ArrayList<>();
                for (FileStatus status : listed == null ? new FileStatus[0] : listed) {
                    if (matcher.matches(Paths.get(status.getPath().getName()))) {
                        matches.add(status.getPath().toString());
                    }
                }
                if (matches.isEmpty()) {
                    throw new IllegalArgumentException("Input " + spec + " matches no file");
                }
                matches.sort(Comparator.naturalOrder());
                roots.addAll(matches);
            } else if (!fs.exists(path)) {
                throw new IllegalArgumentException("Input " + spec + " does not exist");
            } else {
                roots.add(path.toString());
            }
        }
        return new CorpusInputs(List.copyOf(roots));
    }

    /** Whether a file found in an input folder is an input (see the class comment). */
    public static boolean isInput(Path file) {
        String name = file.getName();
        if (name.startsWith(".") || name.startsWith("_")) {
            return false;
        }
        int dot = name.lastIndexOf('.');
        return dot < 0 || !CorpusFileReader.METADATA_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** The bounded Flink source over these inputs: one split per file, files in any order. */
    public FileSource<InputImage> source(int maxImageBytes) {
        Path[] paths = roots.stream().map(Path::new).toArray(Path[]::new);
        return FileSource.forBulkFileFormat(new ImageFileFormat(this, maxImageBytes), paths)
                .setFileEnumerator(() -> new NonSplittingRecursiveEnumerator(CorpusInputs::isInput))
                .build();
    }

    /** Every input file, folders listed recursively, in a stable order (for {@code bin/vqrae load}). */
    public List<FileStatus> files() throws IOException {
        List<FileStatus> files = new ArrayList<>();
        for (String root : roots) {
            Path path = new Path(root);
            collect(path.getFileSystem(), path.getFileSystem().getFileStatus(path), files, true);
        }
        return files;
    }

    private static void collect(FileSystem fs, FileStatus status, List<FileStatus> files, boolean named) throws IOException {
        if (!status.isDir()) {
            // A file the user named is an input whatever its name; filters apply to what folders hold.
            if (named || isInput(status.getPath())) {
                files.add(status);
            }
            return;
        }
        FileStatus[] children = fs.listStatus(status.getPath());
        if (children == null) {
            return;
        }
        java.util.Arrays.sort(children, Comparator.comparing(child -> child.getPath().getName()));
        for (FileStatus child : children) {
            if (child.isDir() && (child.getPath().getName().startsWith(".") || child.getPath().getName().startsWith("_"))) {
                continue;
            }
            collect(fs, child, files, false);
        }
    }

    /** A loose file's id: its path below the deepest input folder that holds it, else its name. */
    public String idOf(Path file) {
        String path = file.toUri().getPath();
        String best = null;
        for (String root : roots) {
            String prefix = new Path(root).toUri().getPath();
            prefix = prefix.endsWith("/") ? prefix : prefix + "/";
            if (path.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? file.getName() : path.substring(best.length());
    }

    /** Opens one input file of {@link #files()} for reading its inputs in order. */
    public CorpusFileReader open(FileStatus file, int maxImageBytes) {
        try {
            return CorpusFileReader.open(file.getPath(), file.getLen(), idOf(file.getPath()), maxImageBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open input " + file.getPath() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return String.join(", ", roots);
    }
}
