package io.vqrae.pipeline.corpus.sink.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.npy.Npy;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.SourceFile;
import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Date;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;

/**
 * Writes token, feature and duplicate records as WebDataset samples into one POSIX tar part file: per image
 * {@code KEY.json}, {@code KEY.tokens.npy} ({@code [grid_h, grid_w]}, uint16 or uint32) and
 * {@code KEY.features.npy}, consecutive, so numpy and tarfile alone read them (docs/corpora.md).
 *
 * <p>An image's feature record follows its token record (the encoder emits them together), so the token
 * record waits until the next record shows whether features come with it: the JSON then describes them.
 * {@link #finish} writes a waiting sample, so a part file never ends inside one.
 */
public final class WebDatasetWriter implements BulkWriter<EncodedRecord> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TarArchiveOutputStream tar;
    private TokenRecord pendingTokens;
    private Origin pendingOrigin;

    WebDatasetWriter(FSDataOutputStream out) {
        // finish() must leave the stream open: the file sink closes and commits it.
        tar = new TarArchiveOutputStream(new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() {}
        });
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    /** The factory the file sink opens a writer per part file with. */
    public static BulkWriter.Factory<EncodedRecord> factory() {
        return WebDatasetWriter::new;
    }

    /**
     * The member-name key of an id: WebDataset cuts a sample's key at the first dot of a member's name, so
     * dots (and the escape character) are percent-escaped; the JSON keeps the id as it is.
     */
    public static String sampleKey(String id) {
        return id.replace("%", "%25").replace(".", "%2E");
    }

    @Override
    public void addElement(EncodedRecord record) throws IOException {
        switch (record.kind()) {
            case TOKENS -> {
                writePending(null);
                pendingTokens = TokenRecord.fromByteBuffer(ByteBuffer.wrap(record.value()));
                pendingOrigin = record.origin();
            }
            case FEATURES -> {
                FeatureRecord features = FeatureRecord.fromByteBuffer(ByteBuffer.wrap(record.value()));
                if (pendingTokens == null || !pendingTokens.getId().equals(features.getId())) {
                    throw new IllegalStateException("Feature record of " + features.getId() + " without its token record");
                }
                writePending(features);
            }
            case DUPLICATE -> {
                writePending(null);
                writeDuplicate(DuplicateRecord.fromByteBuffer(ByteBuffer.wrap(record.value())), record.origin());
            }
            case DEAD_LETTER -> throw new IllegalArgumentException("Dead letters go to their own Avro files");
        }
    }

    private void writePending(FeatureRecord features) throws IOException {
        if (pendingTokens == null) {
            return;
        }
        TokenRecord tokens = pendingTokens;
        pendingTokens = null;
        String key = sampleKey(tokens.getId());
        Instant time = tokens.getProcessedAt();

        ObjectNode json = JSON.createObjectNode();
        json.put("id", tokens.getId());
        json.put("image_sha256", tokens.getImageSha256());
        json.put("model_id", tokens.getModelId());
        json.put("model_version", tokens.getModelVersion());
        json.put("codebook_sha256", tokens.getCodebookSha256());
        json.put("codebook_size", tokens.getCodebookSize());
        json.putArray("grid").add(tokens.getGridHeight()).add(tokens.getGridWidth());
        json.put("mean_quant_error", tokens.getMeanQuantError());
        if (features == null) {
            json.putNull("features");
        } else {
            ObjectNode described = json.putObject("features");
            described.put("kind", features.getKind().name());
            described.put("dtype", features.getDtype().name());
            features.getShape().forEach(described.putArray("shape")::add);
        }
        source(json, pendingOrigin);
        json.put("processed_at", time.toString());
        write(key + ".json", JSON.writeValueAsBytes(json), time);

        String idType = switch (tokens.getDtype()) {
            case uint16 -> "<u2";
            case uint32 -> "<u4";
        };
        write(key + ".tokens.npy", npy(idType, tokens.getTokenIds(), tokens.getGridHeight(), tokens.getGridWidth()), time);
        if (features != null) {
            // bfloat16 has no numpy dtype: its raw 16-bit words, as uint16, with the JSON naming them.
            String valueType = switch (features.getDtype()) {
                case float32 -> "<f4";
                case float16 -> "<f2";
                case bfloat16 -> "<u2";
            };
            long[] shape = features.getShape().stream().mapToLong(Integer::longValue).toArray();
            write(key + ".features.npy", npy(valueType, features.getValues(), shape), time);
        }
    }

    private void writeDuplicate(DuplicateRecord duplicate, Origin origin) throws IOException {
        ObjectNode json = JSON.createObjectNode();
        json.put("id", duplicate.getId());
        json.put("image_sha256", duplicate.getImageSha256());
        json.put("duplicate_of", duplicate.getDuplicateOf());
        source(json, origin);
        write(sampleKey(duplicate.getId()) + ".json", JSON.writeValueAsBytes(json), duplicate.getDetectedAt());
    }

    /** The input's file, and the metadata that came with it in the corpus. */
    private static void source(ObjectNode json, Origin origin) {
        SourceFile file = origin.file();
        ObjectNode source = json.putObject("source");
        if (file == null) {
            source.put("topic", origin.topic());
            json.putNull("metadata");
            json.putNull("text");
            return;
        }
        source.put("path", file.path());
        source.put("member", file.member());
        json.set("metadata", metadata(file.metadataJson()));
        json.put("text", file.text());
    }

    /** The input's JSON sidecar as JSON; one that does not parse is kept as a string, not lost. */
    private static JsonNode metadata(String text) {
        if (text == null) {
            return JSON.nullNode();
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(text);
        }
    }

    private static byte[] npy(String dtype, ByteBuffer values, long... shape) {
        return new Npy(dtype, shape, values.duplicate().order(ByteOrder.LITTLE_ENDIAN)).toBytes();
    }

    private void write(String name, byte[] content, Instant time) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setModTime(Date.from(time));
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    @Override
    public void flush() throws IOException {
        tar.flush();
    }

    @Override
    public void finish() throws IOException {
        writePending(null);
        tar.finish();
        tar.flush();
    }
}
