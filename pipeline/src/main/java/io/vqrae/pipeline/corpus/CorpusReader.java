package io.vqrae.pipeline.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vqrae.pipeline.corpus.format.CorpusFormat;
import io.vqrae.pipeline.corpus.format.CorpusFormats;
import io.vqrae.pipeline.corpus.format.CorpusSample;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.avro.AvroContainerFiles;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.DuplicateRecord;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.flink.core.fs.Path;


/**
 * Reads the output folder of {@code bin/vqrae tokenize-corpus} on the JVM, from any Flink filesystem: its
 * samples as its format reads them ({@link CorpusFormat}: WebDataset, Avro or Parquet), its dead letters and its
 * manifest. Like the Python reader, it refuses a folder without {@code _SUCCESS.json}
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
     * Every sample, tokenized ones and duplicates, in file order, as the folder's format reads them
     * ({@link CorpusFormat#read}; Avro's features joined in memory, by id).
     *
     * @throws IOException if a file cannot be read
     */
    public void forEach(Consumer<CorpusSample> action) throws IOException {
        format().read(root, codebookGuard(action));
    }

    /**
     * The format: the one {@code _SUCCESS.json} names, or for an incomplete folder the one its folders show
     * (WebDataset shards, else Parquet token files, else Avro).
     */
    public CorpusFormat format() throws IOException {
        if (manifest != null) {
            return CorpusFormats.named(manifest.get("format").asText());
        }
        if (root.getFileSystem().exists(new Path(root, OutputFolders.WEBDATASET))) {
            return CorpusFormats.named("webdataset");
        }
        return CorpusFormats.named(OutputFolders.committedFiles(root, OutputFolders.TOKENS, ".parquet").isEmpty() ? "avro" : "parquet");
    }

    /** Every duplicate of Avro or Parquet output (WebDataset output holds them among its samples). */
    public List<DuplicateRecord> duplicates() throws IOException {
        List<DuplicateRecord> records = new ArrayList<>();
        AvroContainerFiles.read(root, OutputFolders.DUPLICATES, DuplicateRecord.class, records::add);
        return records;
    }

    /** Every dead letter. */
    public List<DeadLetterRecord> deadLetters() throws IOException {
        List<DeadLetterRecord> records = new ArrayList<>();
        AvroContainerFiles.read(root, OutputFolders.DEAD_LETTERS, DeadLetterRecord.class, records::add);
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
}
