package io.vqrae.pipeline.corpus.format.avro;

import io.vqrae.operators.encode.EncodedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;

/**
 * Writes records of one schema into an Avro object container file. The records arrive already encoded
 * (Avro single-object encoding: a 10-byte header naming the schema's fingerprint, then the binary datum), so
 * the datum is appended as it is ({@link DataFileWriter#appendEncoded}) rather than decoded into an object
 * and encoded again, which Flink's {@code AvroWriters} would do.
 */
public final class AvroContainerWriter implements BulkWriter<EncodedRecord> {
    /** Single-object encoding: marker C3 01, then the schema's CRC-64-AVRO fingerprint, little-endian. */
    private static final int HEADER_BYTES = 10;

    private final DataFileWriter<Object> writer;
    private final long fingerprint;
    private final String schemaName;

    private AvroContainerWriter(Schema schema, FSDataOutputStream out) throws IOException {
        this.fingerprint = SchemaNormalization.parsingFingerprint64(schema);
        this.schemaName = schema.getFullName();
        // The file sink owns the stream: finish() flushes, never closes.
        this.writer = new DataFileWriter<>(new GenericDatumWriter<>(schema)).create(schema, out);
    }

    /** A factory for files of {@code schema}'s records (a generated class's {@code getClassSchema()}). */
    public static BulkWriter.Factory<EncodedRecord> factory(Schema schema) {
        return out -> new AvroContainerWriter(schema, out);
    }

    @Override
    public void addElement(EncodedRecord record) throws IOException {
        byte[] value = record.value();
        if (value.length < HEADER_BYTES || value[0] != (byte) 0xC3 || value[1] != 0x01
                || ByteBuffer.wrap(value, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() != fingerprint) {
            throw new IllegalArgumentException("A " + record.kind() + " record is not a single-object " + schemaName
                    + " (header " + Arrays.toString(Arrays.copyOf(value, Math.min(HEADER_BYTES, value.length))) + ")");
        }
        writer.appendEncoded(ByteBuffer.wrap(value, HEADER_BYTES, value.length - HEADER_BYTES));
    }

    @Override
    public void flush() throws IOException {
        writer.flush();
    }

    @Override
    public void finish() throws IOException {
        writer.flush();
    }
}
