package io.vqrae.pipeline.corpus.format.avro;

import io.vqrae.pipeline.corpus.format.OutputFolders;
import java.io.IOException;
import java.util.function.Consumer;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.core.fs.Path;

/** Reads the records of a folder's committed Avro object container files, from any Flink filesystem. */
public final class AvroContainerFiles {
    private AvroContainerFiles() {}

    /** Each record of {@code folder}'s {@code .avro} files under {@code output}, file by file, as {@code type}. */
    public static <T extends SpecificRecordBase> void read(Path output, String folder, Class<T> type, Consumer<T> action) throws IOException {
        for (Path file : OutputFolders.committedFiles(output, folder, ".avro")) {
            try (DataFileStream<T> records = new DataFileStream<>(file.getFileSystem().open(file), new SpecificDatumReader<>(type))) {
                for (T record : records) {
                    action.accept(record);
                }
            }
        }
    }
}
