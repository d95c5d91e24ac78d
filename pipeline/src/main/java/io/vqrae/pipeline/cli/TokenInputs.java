package io.vqrae.pipeline.cli;

import io.vqrae.models.npy.Npy;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.corpus.CorpusManifest;
import io.vqrae.pipeline.corpus.CorpusReader;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.avro.AvroContainerFiles;
import io.vqrae.pipeline.corpus.format.parquet.ParquetRecordFiles;
import io.vqrae.pipeline.corpus.format.webdataset.WebDatasetFormat;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What {@code detokenize} reads from files: every output format this project writes, on any Flink filesystem.
 * A path named may be the output folder of a {@code tokenize-corpus} run (any format, read as {@link CorpusReader}
 * reads it, complete or not), a WebDataset {@code .tar} shard, an Avro ({@code .avro}) or Parquet
 * ({@code .parquet}) file of TokenRecords, a {@code KEY.tokens.npy} grid, or a folder searched recursively for
 * those (hidden and {@code _} names skipped, other files ignored).
 */
final class TokenInputs {
    /** The file suffixes read. */
    static final List<String> SUFFIXES = List.of(".tar", ".avro", ".parquet", ".tokens.npy");

    /**
     * One token grid.
     *
     * @param id the image's id, as {@code tokenize-corpus} or the job gave it
     * @param tokenIds row-major ids
     * @param codebookSha256 the codebook the ids are of; null where the source carries none ({@code .tokens.npy})
     */
    record Grid(String id, int[] tokenIds, String codebookSha256) {}

    private TokenInputs() {}

    /**
     * The token inputs named: files as named, folders replaced by the corpus output folders and token files in
     * them, in path order.
     *
     * @throws picocli.CommandLine.ParameterException for a path that does not exist, cannot be read, or is a
     *     folder holding no token files
     */
    static List<Path> resolve(CommandSpec spec, List<String> inputs) throws IOException {
        List<Path> found = new ArrayList<>();
        for (String input : inputs) {
            List<Path> ofInput = new ArrayList<>();
            for (String root : InputPaths.existing(spec, List.of(input)).roots()) {
                Path path = new Path(root);
                FileSystem fs = path.getFileSystem();
                if (fs.getFileStatus(path).isDir()) {
                    collect(fs, path, ofInput);
                } else {
                    ofInput.add(path);
                }
            }
            if (ofInput.isEmpty()) {
                throw InputPaths.badInput(spec, "Input " + input + " is a folder without token files (a tokenize-corpus output folder, "
                        + String.join(", ", SUFFIXES) + ")");
            }
            found.addAll(ofInput);
        }
        return found;
    }

    private static void collect(FileSystem fs, Path folder, List<Path> found) throws IOException {
        if (isCorpusOutput(fs, folder)) {
            found.add(folder);
            return;
        }
        FileStatus[] children = fs.listStatus(folder);
        if (children == null) {
            return;
        }
        Arrays.sort(children, Comparator.comparing(child -> child.getPath().getName()));
        for (FileStatus child : children) {
            String name = child.getPath().getName();
            if (!CorpusInputs.isInputFolderName(name)) {
                continue;
            }
            if (child.isDir()) {
                collect(fs, child.getPath(), found);
            } else if (SUFFIXES.stream().anyMatch(name::endsWith)) {
                found.add(child.getPath());
            }
        }
    }

    /** A {@code tokenize-corpus} output folder: a completed run's, or one still being written. */
    private static boolean isCorpusOutput(FileSystem fs, Path folder) throws IOException {
        return fs.exists(new Path(folder, CorpusManifest.FILE_NAME)) || fs.exists(new Path(folder, OutputFolders.WEBDATASET))
                || fs.exists(new Path(folder, OutputFolders.TOKENS));
    }

    /**
     * Hands each token grid of one input of {@link #resolve} to {@code action}, in the input's order. Samples
     * without tokens (a duplicate of Avro or Parquet output, or of an image that became a dead letter) have no grid.
     *
     * @throws IOException if the input cannot be read, or is not a token file
     */
    static void read(Path input, Consumer<Grid> action) throws IOException {
        FileSystem fs = input.getFileSystem();
        String name = input.getName();
        if (fs.getFileStatus(input).isDir()) {
            // Codebooks are checked grid by grid against the model's, so a folder of two codebooks is read whole.
            CorpusReader.open(input.toString(), true, true).forEach(sample -> {
                if (sample.tokenIds() != null) {
                    action.accept(new Grid(sample.id(), sample.tokenIds(), sample.codebookSha256()));
                }
            });
        } else if (name.endsWith(".tar")) {
            WebDatasetFormat.readShard(input, sample -> {
                if (sample.tokenIds() != null) {
                    action.accept(new Grid(sample.id(), sample.tokenIds(), sample.codebookSha256()));
                }
            });
        } else if (name.endsWith(".avro")) {
            AvroContainerFiles.readFile(input, TokenRecord.class, record -> action.accept(grid(record)));
        } else if (name.endsWith(".parquet")) {
            ParquetRecordFiles.read(input, TokenRecord.class, record -> action.accept(grid(record)));
        } else if (name.endsWith(".tokens.npy")) {
            byte[] bytes;
            try (InputStream in = fs.open(input)) {
                bytes = in.readAllBytes();
            }
            String key = name.substring(0, name.length() - ".tokens.npy".length());
            action.accept(new Grid(WebDatasetFormat.sampleId(key), Npy.read(bytes, input.toString()).ids(), null));
        } else {
            throw new IOException("not a token file (" + String.join(", ", SUFFIXES) + ", or a tokenize-corpus output folder)");
        }
    }

    static Grid grid(TokenRecord record) {
        return new Grid(record.getId(), TokenIds.decode(record.getTokenIds(), record.getDtype()), record.getCodebookSha256());
    }
}
