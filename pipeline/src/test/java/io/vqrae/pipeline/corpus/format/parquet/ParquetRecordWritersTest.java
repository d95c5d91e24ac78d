package io.vqrae.pipeline.corpus.format.parquet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vqrae.operators.data.Origin;
import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.RecordKind;
import io.vqrae.pipeline.testing.ParquetFiles;
import io.vqrae.schemas.FeatureKind;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.FeatureValueType;
import io.vqrae.schemas.TokenIdType;
import io.vqrae.pipeline.testing.ParquetFiles;
import io.vqrae.schemas.TokenRecord;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.apache.flink.core.fs.local.LocalFileSystem;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes token and feature records through the writers into files on Flink's local file system and reads
 * them back with parquet-avro (reading needs Hadoop, which only the tests have).
 */
class ParquetRecordWritersTest {
    private static final Instant PROCESSED_AT = Instant.ofEpochMilli(1_767_225_600_123L);
    /** Enough records for several data pages and dictionary-encoded strings, both through reused objects. */
    private static final int TOKEN_RECORDS = 300;

    @TempDir
    Path dir;

    @Test
    void tokenRecordsComeBackFieldForField() throws IOException {
        Path file = dir.resolve("tokens.parquet");
        writeTokens(file.toString());

        List<TokenRecord> read = ParquetFiles.read(file, TokenRecord.class);
        assertThat(read).containsExactlyElementsOf(tokens());
        TokenRecord first = read.get(0);
        assertThat(first.getId()).isEqualTo("img-0");
        assertThat(first.getDtype()).isEqualTo(TokenIdType.uint16);
        assertThat(first.getGridHeight()).isEqualTo(2);
        assertThat(bytes(first.getTokenIds())).containsExactly(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0);
        assertThat(first.getProcessedAt()).isEqualTo(PROCESSED_AT);
        assertThat(first.getSourceTopic()).isEqualTo("images");
        assertThat(first.getSourceOffset()).isEqualTo(1000L);
        assertThat(read.get(1).getSourceTopic()).isNull();
        assertThat(read.get(1).getSourceOffset()).isNull();
    }

    @Test
    void featureRecordsComeBackFieldForField() throws IOException {
        Path file = dir.resolve("features.parquet");
        List<FeatureRecord> features = List.of(
                feature("img-0", FeatureKind.per_token, List.of(6, 4), FeatureValueType.float32, floats(24)),
                feature("img-1", FeatureKind.pooled, List.of(4), FeatureValueType.bfloat16, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        write(features.stream().map(ParquetRecordWritersTest::encode).toList(), file.toString());

        List<FeatureRecord> read = ParquetFiles.read(file, FeatureRecord.class);
        assertThat(read).containsExactlyElementsOf(features);
        assertThat(read.get(0).getShape()).containsExactly(6, 4);
        assertThat(read.get(0).getDtype()).isEqualTo(FeatureValueType.float32);
        assertThat(bytes(read.get(0).getValues())).isEqualTo(floats(24));
        assertThat(read.get(1).getKind()).isEqualTo(FeatureKind.pooled);
        assertThat(read.get(1).getShape()).containsExactly(4);
        assertThat(read.get(1).getProcessedAt()).isEqualTo(PROCESSED_AT);
    }

    /** What Spark, DuckDB and pyarrow see: the column types in the footer, and ZSTD pages. */
    @Test
    void columnsAreTypedForOtherReaders() throws IOException {
        Path file = dir.resolve("tokens.parquet");
        writeTokens(file.toString());

        ParquetMetadata footer;
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
            footer = reader.getFooter();
        }
        MessageType schema = footer.getFileMetaData().getSchema();
        assertThat(schema.getFieldCount()).isEqualTo(TokenRecord.getClassSchema().getFields().size());
        assertColumn(schema.getType("id"), Type.Repetition.REQUIRED, PrimitiveTypeName.BINARY,
                LogicalTypeAnnotation.stringType());
        assertColumn(schema.getType("dtype"), Type.Repetition.REQUIRED, PrimitiveTypeName.BINARY,
                LogicalTypeAnnotation.enumType());
        assertColumn(schema.getType("token_ids"), Type.Repetition.REQUIRED, PrimitiveTypeName.BINARY, null);
        assertColumn(schema.getType("mean_quant_error"), Type.Repetition.REQUIRED, PrimitiveTypeName.FLOAT, null);
        assertColumn(schema.getType("source_offset"), Type.Repetition.OPTIONAL, PrimitiveTypeName.INT64, null);
        assertColumn(schema.getType("processed_at"), Type.Repetition.REQUIRED, PrimitiveTypeName.INT64,
                LogicalTypeAnnotation.timestampType(true, TimeUnit.MILLIS));
        assertThat(footer.getBlocks()).isNotEmpty();
        assertThat(footer.getBlocks().stream().flatMap(block -> block.getColumns().stream()))
                .extracting(ColumnChunkMetaData::getCodec)
                .containsOnly(CompressionCodecName.ZSTD);
    }

    @Test
    void shapeIsAStandardThreeLevelList() throws IOException {
        Path file = dir.resolve("features.parquet");
        write(List.of(encode(feature("img", FeatureKind.pooled, List.of(4), FeatureValueType.float32, floats(4)))),
                file.toString());

        MessageType schema;
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
            schema = reader.getFooter().getFileMetaData().getSchema();
        }
        Type shape = schema.getType("shape");
        assertThat(shape.getLogicalTypeAnnotation()).isEqualTo(LogicalTypeAnnotation.listType());
        Type list = shape.asGroupType().getType(0);
        assertThat(list.isRepetition(Type.Repetition.REPEATED)).isTrue();
        assertThat(list.getName()).isEqualTo("list");
        assertThat(list.asGroupType().getType(0).getName()).isEqualTo("element");
    }

    /**
     * Writes in a class loader without the test classpath's Hadoop jars: the job's classpath has none. Hadoop
     * is loaded lazily, so only writing through every code path (pages, dictionaries, ZSTD, footer) shows it.
     */
    @Test
    void writesWithoutHadoop() throws Exception {
        Path file = dir.resolve("tokens.parquet");
        List<URL> classpath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!Path.of(entry).getFileName().toString().startsWith("hadoop-")) {
                classpath.add(url(entry));
            }
        }
        try (URLClassLoader withoutHadoop = new URLClassLoader(classpath.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            assertThatThrownBy(() -> withoutHadoop.loadClass("org.apache.hadoop.conf.Configuration"))
                    .isInstanceOf(ClassNotFoundException.class);
            // That loader's copy of this class is in another runtime package: package access needs opening.
            Method writeTokens = withoutHadoop.loadClass(ParquetRecordWritersTest.class.getName())
                    .getDeclaredMethod("writeTokens", String.class);
            writeTokens.setAccessible(true);
            writeTokens.invoke(null, file.toString());
        }

        assertThat(ParquetFiles.read(file, TokenRecord.class)).containsExactlyElementsOf(tokens());
    }

    @Test
    void aWriterRefusesRecordsOfAnotherKind() throws IOException {
        try (FSDataOutputStream out = create(dir.resolve("tokens.parquet").toString())) {
            BulkWriter<EncodedRecord> writer = ParquetRecordWriters.forKind(RecordKind.TOKENS).create(out);
            EncodedRecord feature = encode(feature("img", FeatureKind.pooled, List.of(1), FeatureValueType.float32, floats(1)));
            assertThatThrownBy(() -> writer.addElement(feature))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("FEATURES record in a TOKENS Parquet file");
        }
    }

    @Test
    void onlyTokensAndFeaturesHaveParquetWriters() {
        for (RecordKind kind : List.of(RecordKind.DEAD_LETTER, RecordKind.DUPLICATE)) {
            assertThatThrownBy(() -> ParquetRecordWriters.forKind(kind))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(kind.name());
        }
    }

    /** Called reflectively by {@link #writesWithoutHadoop} as well, from a class loader without Hadoop. */
    static void writeTokens(String file) throws IOException {
        write(tokens().stream().map(ParquetRecordWritersTest::encode).toList(), file);
    }

    /** Writes as the file sink does: the factory's writer, finish(), then the sink closes the stream. */
    private static void write(List<EncodedRecord> records, String file) throws IOException {
        try (FSDataOutputStream out = create(file)) {
            BulkWriter<EncodedRecord> writer = ParquetRecordWriters.forKind(records.get(0).kind()).create(out);
            for (EncodedRecord record : records) {
                writer.addElement(record);
            }
            writer.finish();
        }
    }

    private static FSDataOutputStream create(String file) throws IOException {
        return new LocalFileSystem().create(new org.apache.flink.core.fs.Path(file), WriteMode.OVERWRITE);
    }

    private static List<TokenRecord> tokens() {
        return IntStream.range(0, TOKEN_RECORDS).mapToObj(i -> TokenRecord.newBuilder()
                .setId("img-" + i)
                .setImageSha256("%064x".formatted(i))
                .setModelId("vqrae-tiny")
                .setModelVersion("1")
                .setCodebookSha256("c".repeat(64))
                .setGridHeight(2)
                .setGridWidth(3)
                .setCodebookSize(4096)
                .setDtype(TokenIdType.uint16)
                .setTokenIds(uint16(IntStream.range(i, i + 6).toArray()))
                .setMeanQuantError(0.25f + i)
                .setSourceTopic(i % 2 == 0 ? "images" : null)
                .setSourcePartition(i % 2 == 0 ? 3 : null)
                .setSourceOffset(i % 2 == 0 ? 1000L + i : null)
                .setProcessedAt(PROCESSED_AT.plusMillis(i))
                .build()).toList();
    }

    private static FeatureRecord feature(String id, FeatureKind kind, List<Integer> shape, FeatureValueType dtype, byte[] values) {
        return FeatureRecord.newBuilder()
                .setId(id)
                .setImageSha256("a".repeat(64))
                .setModelId("vqrae-tiny")
                .setModelVersion("1")
                .setCodebookSha256("c".repeat(64))
                .setKind(kind)
                .setShape(shape)
                .setDtype(dtype)
                .setValues(ByteBuffer.wrap(values))
                .setProcessedAt(PROCESSED_AT)
                .build();
    }

    private static EncodedRecord encode(TokenRecord record) {
        try {
            return new EncodedRecord(RecordKind.TOKENS, record.getId(), bytes(record.toByteBuffer()), Origin.NONE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static EncodedRecord encode(FeatureRecord record) {
        try {
            return new EncodedRecord(RecordKind.FEATURES, record.getId(), bytes(record.toByteBuffer()), Origin.NONE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ByteBuffer uint16(int[] ids) {
        ByteBuffer buffer = ByteBuffer.allocate(2 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
        Arrays.stream(ids).forEach(id -> buffer.putShort((short) id));
        return buffer.flip();
    }

    private static byte[] floats(int count) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * count).order(ByteOrder.LITTLE_ENDIAN);
        IntStream.range(0, count).forEach(i -> buffer.putFloat(i * 0.5f - 3));
        return buffer.array();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static void assertColumn(Type column, Type.Repetition repetition, PrimitiveTypeName physical,
            LogicalTypeAnnotation logical) {
        assertThat(column.isRepetition(repetition)).as(column.getName()).isTrue();
        assertThat(column.asPrimitiveType().getPrimitiveTypeName()).as(column.getName()).isEqualTo(physical);
        assertThat(column.getLogicalTypeAnnotation()).as(column.getName()).isEqualTo(logical);
    }

    private static URL url(String classpathEntry) {
        try {
            return Path.of(classpathEntry).toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(classpathEntry, e);
        }
    }
}
