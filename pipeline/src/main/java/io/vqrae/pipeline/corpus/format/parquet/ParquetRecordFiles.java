package io.vqrae.pipeline.corpus.format.parquet;

import java.io.IOException;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.core.fs.Path;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetReader;

/**
 * Reads the Parquet files {@link ParquetRecordWriters} writes, from any Flink filesystem, with no Hadoop on the
 * classpath: parquet-avro over a {@link FlinkInputFile}, a {@link PlainParquetConfiguration} and the codecs of
 * {@link PureJavaZstd}, as the writers do.
 */
public final class ParquetRecordFiles {
    private ParquetRecordFiles() {}

    /**
     * Each record of one Parquet file, as the generated class {@code type}.
     *
     * @throws IOException if the file cannot be read, or its records are not {@code type}'s
     */
    public static <T extends SpecificRecord> void read(Path file, Class<T> type, Consumer<T> action) throws IOException {
        // The records are of the class the file's own Avro schema (in its footer) names.
        try (ParquetReader<Object> reader = AvroParquetReader.builder(new FlinkInputFile(file), new PlainParquetConfiguration())
                .withDataModel(SpecificData.getForClass(type))
                .withCodecFactory(new PureJavaZstd())
                .build()) {
            for (Object record = reader.read(); record != null; record = reader.read()) {
                if (!type.isInstance(record)) {
                    throw new IOException(file + " holds " + record.getClass().getSimpleName() + "s, not " + type.getSimpleName() + "s");
                }
                action.accept(type.cast(record));
            }
        }
    }
}
