package io.vqrae.pipeline.corpus.format.parquet;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.core.fs.Path;
import org.apache.parquet.HadoopFreeReadOptions;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.api.InitContext;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.MessageType;

/**
 * Reads the Parquet files {@link ParquetRecordWriters} writes, from any Flink filesystem, with no Hadoop on the
 * classpath: parquet-avro's {@link AvroReadSupport} over a {@link ParquetFileReader} of a {@link FlinkInputFile},
 * a {@link PlainParquetConfiguration} and the codecs of {@link PureJavaZstd}, as the writers do. Row groups are
 * assembled here rather than by {@code AvroParquetReader}: its builder class ({@code ParquetReader.Builder})
 * cannot even be loaded without Hadoop ({@code NoClassDefFoundError: org/apache/hadoop/fs/PathFilter}), and the
 * read options come from {@link HadoopFreeReadOptions}, since parquet-java's own builder loads Hadoop's codecs.
 */
public final class ParquetRecordFiles {
    private ParquetRecordFiles() {}

    /**
     * Each record of one Parquet file, as the generated class {@code type}.
     *
     * @throws IOException if the file cannot be read, or its records are not {@code type}'s
     */
    public static <T extends SpecificRecord> void read(Path file, Class<T> type, Consumer<T> action) throws IOException {
        ParquetConfiguration conf = new PlainParquetConfiguration();
        ParquetReadOptions options = HadoopFreeReadOptions.of(conf, new PureJavaZstd());
        try (ParquetFileReader reader = ParquetFileReader.open(new FlinkInputFile(file), options)) {
            MessageType schema = reader.getFooter().getFileMetaData().getSchema();
            Map<String, String> keyValues = reader.getFooter().getFileMetaData().getKeyValueMetaData();
            Map<String, Set<String>> keyValueSets = new HashMap<>();
            keyValues.forEach((key, value) -> keyValueSets.put(key, Set.of(value)));
            // The records are of the class the file's own Avro schema (in its footer) names.
            AvroReadSupport<Object> support = new AvroReadSupport<>(SpecificData.getForClass(type));
            ReadSupport.ReadContext context = support.init(new InitContext(conf, keyValueSets, schema));
            RecordMaterializer<Object> materializer = support.prepareForRead(conf, keyValues, schema, context);
            MessageColumnIO columns = new ColumnIOFactory().getColumnIO(context.getRequestedSchema(), schema);
            for (PageReadStore rowGroup = reader.readNextRowGroup(); rowGroup != null; rowGroup = reader.readNextRowGroup()) {
                RecordReader<Object> records = columns.getRecordReader(rowGroup, materializer);
                for (long row = 0; row < rowGroup.getRowCount(); row++) {
                    Object record = records.read();
                    if (!type.isInstance(record)) {
                        throw new IOException(file + " holds " + record.getClass().getSimpleName() + "s, not " + type.getSimpleName() + "s");
                    }
                    action.accept(type.cast(record));
                }
            }
        }
    }
}
