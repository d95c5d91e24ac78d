package io.vqrae.pipeline.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;

/** Reads Parquet files back with parquet-avro's own reader (Hadoop's client is on the test classpath only). */
public final class ParquetFiles {
    private ParquetFiles() {}

    /** Every record of one file, as the generated class {@code type}. */
    public static <T extends SpecificRecord> List<T> read(Path file, Class<T> type) throws IOException {
        List<T> records = new ArrayList<>();
        try (ParquetReader<T> reader = AvroParquetReader.<T>builder(new LocalInputFile(file), new PlainParquetConfiguration())
                .withDataModel(SpecificData.getForClass(type))
                .build()) {
            for (T record = reader.read(); record != null; record = reader.read()) {
                records.add(record);
            }
        }
        return records;
    }

    /** Every record of a folder's committed part files (in-progress ones are hidden). */
    public static <T extends SpecificRecord> List<T> readFolder(Path folder, Class<T> type) throws IOException {
        List<T> records = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList()) {
                records.addAll(read(file, type));
            }
        }
        return records;
    }
}
