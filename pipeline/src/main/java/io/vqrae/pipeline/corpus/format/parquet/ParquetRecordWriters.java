package io.vqrae.pipeline.corpus.format.parquet;

import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.avro.AvroWriteSupport;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Parquet part files of token or feature records, for Spark, DuckDB, pandas and Hugging Face datasets.
 * Each file's columns are the Avro record's fields, mapped by parquet-avro: strings as UTF-8 {@code
 * BINARY}, {@code bytes} as plain {@code BINARY}, enums as {@code BINARY} annotated {@code ENUM}, nullable
 * fields as optional columns, {@code shape} as a standard three-level {@code LIST} and {@code
 * processed_at} as {@code INT64 TIMESTAMP(MILLIS, UTC)}; the Avro schema is kept in the footer as well.
 * Pages are ZSTD-compressed.
 *
 * <p>Nothing here loads Hadoop: parquet-java is driven through its Hadoop-free entry points ({@code
 * OutputFile}, {@link PlainParquetConfiguration}, an explicit data model) and a codec of its own, since
 * parquet-java's codecs are all Hadoop codecs. Flink's {@code AvroParquetWriters} would need Hadoop's
 * client jars (about 50 MB) on the job's classpath.
 *
 * <p>A writer buffers a whole row group (parquet-java's default 128 MiB) in memory before anything reaches
 * the file, so a part file's size grows in row-group steps, and a part file is only readable once the
 * file sink has finished it.
 */
public final class ParquetRecordWriters {

    private ParquetRecordWriters() {}

    /**
     * The writer factory for one kind of record.
     *
     * @param kind {@link RecordKind#TOKENS} or {@link RecordKind#FEATURES}; a writer refuses records of
     *     any other kind
     * @throws IllegalArgumentException for any other kind
     */
    public static BulkWriter.Factory<EncodedRecord> forKind(RecordKind kind) {
        return switch (kind) {
            case TOKENS -> new Factory<>(kind, TokenRecord.class);
            case FEATURES -> new Factory<>(kind, FeatureRecord.class);
            default -> throw new IllegalArgumentException("No Parquet output for " + kind + " records");
        };
    }

    /** Holds only the kind and the generated class, so the sink serializes it with the job graph. */
    private static final class Factory<T extends SpecificRecord> implements BulkWriter.Factory<EncodedRecord> {
        private static final long serialVersionUID = 1L;

        private final RecordKind kind;
        private final Class<T> type;

        Factory(RecordKind kind, Class<T> type) {
            this.kind = kind;
            this.type = type;
        }

        @Override
        public BulkWriter<EncodedRecord> create(FSDataOutputStream out) throws IOException {
            // The generated class's own model: it carries the timestamp-millis conversion (Instant <-> long).
            SpecificData model = SpecificData.getForClass(type);
            Schema schema = model.getSchema(type);
            ParquetWriter<T> writer = AvroParquetWriter.<T>builder(new FlinkOutputFile(out))
                    .withConf(new PlainParquetConfiguration(Map.of(
                            // parquet-avro writes arrays as legacy two-level lists unless told otherwise.
                            AvroWriteSupport.WRITE_OLD_LIST_STRUCTURE, "false")))
                    .withDataModel(model)
                    .withSchema(schema)
                    .withCodecFactory(new PureJavaZstd())
                    .withCompressionCodec(CompressionCodecName.ZSTD)
                    .build();
            return new Writer<>(kind, new BinaryMessageDecoder<>(model, schema), writer);
        }
    }

    private static final class Writer<T extends SpecificRecord> implements BulkWriter<EncodedRecord> {
        private final RecordKind kind;
        private final BinaryMessageDecoder<T> decoder;
        private final ParquetWriter<T> parquet;
        /** Decoded into for every element: the Parquet writer is done with a record when write returns. */
        private T reused;

        Writer(RecordKind kind, BinaryMessageDecoder<T> decoder, ParquetWriter<T> parquet) {
            this.kind = kind;
            this.decoder = decoder;
            this.parquet = parquet;
        }

        @Override
        public void addElement(EncodedRecord record) throws IOException {
            if (record.kind() != kind) {
                throw new IllegalArgumentException("A " + record.kind() + " record in a " + kind + " Parquet file");
            }
            // Checks the single-object header: a record of another schema fails here, not as bad columns.
            reused = decoder.decode(record.value(), reused);
            parquet.write(reused);
        }

        @Override
        public void flush() {
            // Nothing to do: Parquet writes only whole row groups, and finish() writes the last one.
        }

        @Override
        public void finish() throws IOException {
            // Writes the buffered row group and the footer; FlinkOutputFile keeps the sink's stream open.
            parquet.close();
        }
    }
}
