package io.vqrae.pipeline.cli;

import io.vqrae.pipeline.corpus.source.CorpusInputs;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The one rule for the paths every command reads (docs/cli.md, "Inputs"), checked before any work: a path
 * named on the command line that does not exist (a glob that matches nothing), that cannot be read, or a
 * folder that holds no input file is a usage error (exit 2) naming it. What is in the files is the command's
 * to judge while it runs: an input that does not decode is reported with its reason and the others go on,
 * and a command none of whose inputs could be used ends with {@link NoUsableInputException} (exit 1).
 *
 * <p>Which files of a folder are inputs is {@link CorpusInputs}'s rule for every command: folders are
 * searched recursively, and hidden files, names starting with {@code _} and {@code .json}, {@code .txt} and
 * {@code .parquet} sidecars are not inputs.
 */
public final class InputPaths {
    /** What the error of an empty folder says counts as an input. */
    private static final String INPUT_RULE = "hidden files, names starting with _ and .json, .txt and .parquet sidecars do not count";

    private InputPaths() {}

    /**
     * A local input file.
     *
     * @param path the file, below the path named
     * @param id its id, as {@code tokenize-corpus} names it: its path below the folder named (with '/'), or its
     *     name when it was named itself
     */
    public record Input(Path path, String id) {}

    /**
     * The input files of local paths, in order: a file as named, a folder's input files in path order.
     *
     * @throws ParameterException for a path that does not exist or cannot be read, or a folder without input files
     */
    public static List<Input> files(CommandSpec spec, List<Path> inputs) throws IOException {
        List<Input> files = new ArrayList<>();
        for (Path input : inputs) {
            files.addAll(files(spec, input));
        }
        return files;
    }

    /** The input files of one local path (see {@link #files(CommandSpec, List)}). */
    public static List<Input> files(CommandSpec spec, Path input) throws IOException {
        requireReadable(spec, input);
        if (!Files.isDirectory(input)) {
            return List.of(new Input(input, input.getFileName().toString()));
        }
        List<Path> found = new ArrayList<>();
        collect(input, found);
        if (found.isEmpty()) {
            throw badInput(spec, "Input " + input + " is a folder without input files (" + INPUT_RULE + ")");
        }
        return found.stream().map(file -> new Input(file, input.relativize(file).toString().replace(File.separatorChar, '/'))).toList();
    }

    /**
     * Resolves inputs of any Flink filesystem (folders, files, globs in the last segment) as {@code tokenize-corpus}
     * and {@code load} read them.
     *
     * @throws ParameterException for an input that does not exist or matches nothing, a local one that cannot be
     *     read, or one that holds no input file
     */
    static CorpusInputs corpus(CommandSpec spec, List<String> inputs) throws IOException {
        CorpusInputs resolved = existing(spec, inputs);
        for (String input : inputs) {
            // The first root that holds an input settles it, without a second listing of a glob: on object storage
            // every look at a root is a request (a HEAD per shard).
            List<String> roots = resolved.rootsOf(input);
            boolean holdsInput = false;
            for (int i = 0; i < roots.size() && !holdsInput; i++) {
                org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(roots.get(i));
                holdsInput = holdsInput(path.getFileSystem(), path);
            }
            if (!holdsInput) {
                throw badInput(spec, "Input " + input + " is a folder without input files (" + INPUT_RULE + ")");
            }
        }
        return resolved;
    }

    /**
     * Resolves paths of any Flink filesystem (globs in the last segment expanded), each of which must exist and,
     * where it is local, be readable.
     *
     * @throws ParameterException for an input that does not exist, matches nothing or cannot be read
     */
    static CorpusInputs existing(CommandSpec spec, List<String> inputs) throws IOException {
        CorpusInputs resolved;
        try {
            resolved = CorpusInputs.resolve(inputs);
        } catch (IllegalArgumentException e) {
            throw badInput(spec, e.getMessage());
        }
        for (String root : resolved.roots()) {
            org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(root);
            if (!path.getFileSystem().isDistributedFS()) {
                requireReadable(spec, Path.of(path.toUri()));
            }
        }
        return resolved;
    }

    /**
     * A path (or topic) named on the command line that cannot be used: a usage error, exit 2, reported as the one
     * line {@code vqrae: MESSAGE}. Unlike other usage errors it has no pointer to {@code --help}: the name is
     * wrong, not the command's form.
     */
    public static final class BadInputException extends ParameterException {
        private static final long serialVersionUID = 1L;

        BadInputException(CommandSpec spec, String message) {
            super(spec.commandLine(), message);
        }
    }

    /**
     * The error for an input named on the command line that cannot be used.
     *
     * @param spec the command's spec ({@code @Spec})
     */
    public static BadInputException badInput(CommandSpec spec, String message) {
        return new BadInputException(spec, message);
    }

    /** Does {@code input} exist, and may this process read it (list it, for a folder)? */
    static void requireReadable(CommandSpec spec, Path input) {
        if (!Files.exists(input)) {
            throw badInput(spec, "Input " + input + " does not exist");
        }
        if (!Files.isReadable(input) || Files.isDirectory(input) && !Files.isExecutable(input)) {
            throw badInput(spec, "Input " + input + " cannot be read (permission denied)");
        }
    }

    /** The input files under {@code folder}, depth first, each folder's entries by name (as {@link CorpusInputs#splits}). */
    private static void collect(Path folder, List<Path> files) throws IOException {
        List<Path> children;
        try (Stream<Path> listed = Files.list(folder)) {
            children = listed.sorted().toList();
        }
        for (Path child : children) {
            String name = child.getFileName().toString();
            if (Files.isDirectory(child)) {
                if (CorpusInputs.isInputFolderName(name)) {
                    collect(child, files);
                }
            } else if (CorpusInputs.isInputName(name)) {
                files.add(child);
            }
        }
    }

    /** Whether {@code path} is a file, or a folder with an input file somewhere below it; stops at the first. */
    private static boolean holdsInput(FileSystem fs, org.apache.flink.core.fs.Path path) throws IOException {
        if (!fs.getFileStatus(path).isDir()) {
            return true;
        }
        FileStatus[] children = fs.listStatus(path);
        if (children == null) {
            return false;
        }
        for (FileStatus child : children) {
            if (!child.isDir() && CorpusInputs.isInput(child.getPath())) {
                return true;
            }
        }
        for (FileStatus child : children) {
            if (child.isDir() && CorpusInputs.isInputFolderName(child.getPath().getName()) && holdsInput(fs, child.getPath())) {
                return true;
            }
        }
        return false;
    }
}
