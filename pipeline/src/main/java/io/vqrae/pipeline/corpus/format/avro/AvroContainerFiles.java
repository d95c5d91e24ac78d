package io.vqrae.pipeline.corpus.format.avro;

import io.vqrae.pipeline.corpus.format.OutputFolders;
import java.io.IOException;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.core.fs.Path;

/** Reads the records of Avro object container files, from any Flink filesystem. */
public final class AvroContainerFiles {
    private AvroContainerFiles() {}

    /** Each record of {@code folder}'s {@code .avro} files under {@code output}, file by file, as {@code type}. */
    public static <T extends SpecificRecordBase> void read(Path output, String folder, Class<T> type, Consumer<T> action) throws IOException {
        for (Path file : OutputFolders.committedFiles(output, folder, ".avro")) {
            readFile(file, type, action);
        }
    }

    /**
     * Each record of one container file, as {@code type}.
     *
     * @throws IOException if the file cannot be read, or holds records of another schema
     */
    public static <T extends SpecificRecordBase> void readFile(Path file, Class<T> type, Consumer<T> action) throws IOException {
        Schema expected = SpecificData.get().getSchema(type);
        try (DataFileStream<T> records = new DataFileStream<>(file.getFileSystem().open(file), new SpecificDatumReader<>(type))) {
            Schema written = records.getSchema();
            if (!written.getFullName().equals(expected.getFullName())) {
                throw new IOException(file + " holds " + written.getName() + "s, not " + expected.getName() + "s");
            }
            for (T record : records) {
                action.accept(record);
            }
        }
    }
}
