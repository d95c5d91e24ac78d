package io.vqrae.pipeline.corpus.source;

import io.vqrae.operators.decode.InputLimits;
import io.vqrae.pipeline.corpus.source.reader.CorpusFileReader;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    /** Each input as named to the roots it resolved to, so a check per input lists nothing again. */
    private final Map<String, List<String>> rootsByInput;
    /**
     * Files a glob matched, as the listing that matched them showed them: on an object store a request per
     * file (a HEAD for its length, two for its sidecars) would cost more than the listing of thousands.
     */
    private final Map<String, Listed> listed;

    private CorpusInputs(Map<String, List<String>> rootsByInput, Map<String, Listed> listed) {
        this.roots = rootsByInput.values().stream().flatMap(List::stream).toList();
        this.rootsByInput = rootsByInput;
        this.listed = listed;
    }

    /** A file as its folder's listing showed it: its length and the sidecars beside it (null when none). */
    private record Listed(long length, String json, String text) implements Serializable {}

    /**
     * Resolves {@code specs}: each must exist, and a glob must match something.
     *
     * @throws IllegalArgumentException naming the input that does not exist or matches nothing
     */
    public static CorpusInputs resolve(List<String> specs) throws IOException {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("No input: name at least one folder, shard or glob");
        }
        Map<String, List<String>> rootsByInput = new LinkedHashMap<>();
        Map<String, Listed> listedFiles = new HashMap<>();
        for (String spec : specs) {
            if (rootsByInput.containsKey(spec)) {
                continue;
            }
            Path path = new Path(spec);
            FileSystem fs = path.getFileSystem();
            String name = path.getName();
            if (name.chars().anyMatch(c -> "*?[{".indexOf(c) >= 0)) {
                PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + name);
                FileStatus[] listed = list(fs, path.getParent());
                Map<String, Path> byName = new HashMap<>();
                for (FileStatus status : listed) {
                    byName.put(status.getPath().getName(), status.getPath().makeQualified(fs));
                }
                List<String> matches = new ArrayList<>();
                for (FileStatus status : listed) {
                    if (matcher.matches(Paths.get(status.getPath().getName()))) {
                        String match = status.getPath().makeQualified(fs).toString();
                        matches.add(match);
                        if (!status.isDir()) {
                            String stem = stem(status.getPath().getName());
                            listedFiles.put(match, new Listed(status.getLen(), stringOf(byName.get(stem + ".json")), stringOf(byName.get(stem + ".txt"))));
                        }
                    }
                }
                if (matches.isEmpty()) {
                    throw new IllegalArgumentException("Input " + spec + " matches no file");
                }
                matches.sort(Comparator.naturalOrder());
                rootsByInput.put(spec, List.copyOf(matches));
            } else if (!fs.exists(path)) {
                throw new IllegalArgumentException("Input " + spec + " does not exist");
            } else {
                // Qualified, so the inputs mean the same on a cluster and on a rerun from another folder.
                rootsByInput.put(spec, List.of(path.makeQualified(fs).toString()));
            }
        }
        return new CorpusInputs(Collections.unmodifiableMap(rootsByInput), Map.copyOf(listedFiles));
    }

    /** The folder's entries; none when it does not exist (one LIST request on an object store, no existence probe first). */
    private static FileStatus[] list(FileSystem fs, Path folder) throws IOException {
        try {
            FileStatus[] listed = fs.listStatus(folder);
            return listed == null ? new FileStatus[0] : listed;
        } catch (FileNotFoundException e) {
            return new FileStatus[0];
        }
    }

    private static String stringOf(Path path) {
        return path == null ? null : path.toString();
    }

    /** The inputs: folders and files as qualified URIs, globs expanded. */
    public List<String> roots() {
        return roots;
    }

    /** The roots one input named to {@link #resolve} resolved to (a glob's matches, else the input, qualified). */
    public List<String> rootsOf(String input) {
        List<String> of = rootsByInput.get(input);
        if (of == null) {
            throw new IllegalArgumentException("Not an input of " + this + ": " + input);
        }
        return of;
    }

    /** Whether a file found in an input folder is an input (see the class comment). */
    public static boolean isInput(Path file) {
        return isInputName(file.getName());
    }

    /** Whether a file of this name found in an input folder is an input (see the class comment). */
    public static boolean isInputName(String name) {
        if (!isInputFolderName(name)) {
            return false;
        }
        int dot = name.lastIndexOf('.');
        return dot < 0 || !CorpusFileReader.METADATA_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Whether a folder of this name found in an input folder is searched for inputs: hidden and {@code _} ones are not. */
    public static boolean isInputFolderName(String name) {
        return !name.startsWith(".") && !name.startsWith("_");
    }

    /** The bounded Flink source over these inputs: one split per file, reading within {@code limits}. */
    public CorpusSource source(InputLimits limits) {
        return new CorpusSource(this, limits);
    }

    /**
     * Every input file, folders listed recursively, in a stable order, each with the sidecars its folder's
     * listing shows beside it: one listing request per folder, no request per file (files a glob matched were
     * listed by {@link #resolve}; only a file named on its own is looked up, with its sidecars).
     */
    public List<CorpusSplit> splits() throws IOException {
        List<CorpusSplit> splits = new ArrayList<>();
        for (String root : roots) {
            Path path = new Path(root);
            Listed file = listed.get(root);
            if (file != null) {
                splits.add(CorpusSplit.of(root, file.length(), idOf(path), file.json(), file.text()));
                continue;
            }
            FileSystem fs = path.getFileSystem();
            FileStatus status = fs.getFileStatus(path);
            if (status.isDir()) {
                collect(fs, status.getPath(), splits);
            } else {
                // A file the user named is an input whatever its name; its sidecars are looked up once here.
                Path parent = status.getPath().getParent();
                String stem = stem(status.getPath().getName());
                splits.add(split(status, existing(fs, new Path(parent, stem + ".json")), existing(fs, new Path(parent, stem + ".txt"))));
            }
        }
        // Inputs may overlap (a folder and a glob inside it): a file is read once, under its first input's id.
        Map<String, CorpusSplit> once = new LinkedHashMap<>();
        splits.forEach(split -> once.putIfAbsent(split.path(), split));
        return List.copyOf(once.values());
    }

    private void collect(FileSystem fs, Path folder, List<CorpusSplit> splits) throws IOException {
        FileStatus[] children = fs.listStatus(folder);
        if (children == null) {
            return;
        }
        Arrays.sort(children, Comparator.comparing(child -> child.getPath().getName()));
        Map<String, Path> byName = new HashMap<>();
        for (FileStatus child : children) {
            byName.put(child.getPath().getName(), child.getPath());
        }
        for (FileStatus child : children) {
            String name = child.getPath().getName();
            if (child.isDir()) {
                if (isInputFolderName(name)) {
                    collect(fs, child.getPath(), splits);
                }
            } else if (isInput(child.getPath())) {
                String stem = stem(name);
                splits.add(split(child, byName.get(stem + ".json"), byName.get(stem + ".txt")));
            }
        }
    }

    private CorpusSplit split(FileStatus file, Path json, Path text) {
        return CorpusSplit.of(file.getPath().toString(), file.getLen(), idOf(file.getPath()),
                json == null ? null : json.toString(), text == null ? null : text.toString());
    }

    /** A loose image's name without its last extension: its sidecars are {@code STEM.json} and {@code STEM.txt}. */
    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static Path existing(FileSystem fs, Path path) throws IOException {
        return fs.exists(path) ? path : null;
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

    /** Opens one input file of {@link #splits()} for reading its inputs in order. */
    public static CorpusFileReader open(CorpusSplit split, InputLimits limits) {
        try {
            return CorpusFileReader.open(split, limits);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open input " + split.path() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return String.join(", ", roots);
    }
}
