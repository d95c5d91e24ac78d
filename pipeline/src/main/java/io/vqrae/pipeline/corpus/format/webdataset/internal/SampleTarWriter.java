package io.vqrae.pipeline.corpus.format.webdataset.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vqrae.models.npy.Npy;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.SourceFile;
import io.vqrae.operators.encode.EncodedRecord;
import io.vqrae.operators.encode.EncodedSample;
import io.vqrae.schemas.DuplicateRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import io.vqrae.schemas.versions.ReleasedSchemas;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Date;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes samples into one POSIX tar as WebDataset samples: per image {@code KEY.json},
 * {@code KEY.tokens.npy} ({@code [grid_h, grid_w]}, uint16 or uint32) and {@code KEY.features.npy},
 * consecutive, so numpy and tarfile alone read them (docs/corpora.md). A duplicate is its own sample: its
 * {@code KEY.json} names the first id ({@code duplicate_of}) and carries the duplicate's own source, metadata
 * and caption, beside the tokens of the image it duplicates when they are known.
 *
 * <p>Each sample's members are whole 512-byte records once {@link #write} returns, so the stream may be
 * persisted between samples and a tar resumed from there; {@link #finish} writes the end-of-archive records.
 * The underlying stream is never closed here: its owner commits it.
 */
public final class SampleTarWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    // Any released version: a duplicate's original tokens may be a record kept in state by an earlier release.
    private static final BinaryMessageDecoder<TokenRecord> TOKENS = ReleasedSchemas.decoder(TokenRecord.class);
    private static final BinaryMessageDecoder<FeatureRecord> FEATURES = ReleasedSchemas.decoder(FeatureRecord.class);
    private static final BinaryMessageDecoder<DuplicateRecord> DUPLICATES = ReleasedSchemas.decoder(DuplicateRecord.class);

    private final TarArchiveOutputStream tar;

    public SampleTarWriter(OutputStream out) {
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

    /**
     * The member-name key of an id: WebDataset cuts a sample's key at the first dot of a member's name, so
     * dots (and the escape character) are percent-escaped; the JSON keeps the id as it is.
     */
    public static String sampleKey(String id) {
        return id.replace("%", "%25").replace(".", "%2E");
    }

    /** The id of a member-name key: {@link #sampleKey}'s escapes undone; any other text is kept as it is. */
    public static String sampleId(String key) {
        StringBuilder id = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++) {
            if (key.startsWith("%2E", i)) {
                id.append('.');
                i += 2;
            } else if (key.startsWith("%25", i)) {
                id.append('%');
                i += 2;
            } else {
                id.append(key.charAt(i));
            }
        }
        return id.toString();
    }

    /** Writes one input's sample; a dead letter has none (dead letters go to their own Avro files). */
    public void write(EncodedSample sample) throws IOException {
        switch (sample.kind()) {
            case TOKENS -> writeTokens(TOKENS.decode(sample.record().value()), sample.features(),
                    sample.origin(), null);
            case DUPLICATE -> writeDuplicate(DUPLICATES.decode(sample.record().value()),
                    sample.originalTokens(), sample.origin());
            case DEAD_LETTER, FEATURES -> throw new IllegalArgumentException("A " + sample.kind() + " is not a WebDataset sample");
        }
        tar.flush();
    }

    /** Ends the archive (two zero records); the stream stays open. */
    public void finish() throws IOException {
        tar.finish();
        tar.flush();
    }

    private void writeTokens(TokenRecord tokens, EncodedRecord featureRecord, Origin origin, DuplicateRecord duplicate) throws IOException {
        FeatureRecord features = featureRecord == null ? null : FEATURES.decode(featureRecord.value());
        String id = duplicate == null ? tokens.getId() : duplicate.getId();
        String key = sampleKey(id);
        Instant time = tokens.getProcessedAt();

        ObjectNode json = JSON.createObjectNode();
        json.put("id", id);
        json.put("image_sha256", tokens.getImageSha256());
        if (duplicate != null) {
            json.put("duplicate_of", duplicate.getDuplicateOf());
        }
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
        source(json, origin);
        json.put("processed_at", time.toString());
        member(key + ".json", JSON.writeValueAsBytes(json), time);

        String idType = switch (tokens.getDtype()) {
            case uint16 -> "<u2";
            case uint32 -> "<u4";
        };
        member(key + ".tokens.npy", npy(idType, tokens.getTokenIds(), tokens.getGridHeight(), tokens.getGridWidth()), time);
        if (features != null) {
            // bfloat16 has no numpy dtype: its raw 16-bit words, as uint16, with the JSON naming them.
            String valueType = switch (features.getDtype()) {
                case float32 -> "<f4";
                case float16 -> "<f2";
                case bfloat16 -> "<u2";
            };
            long[] shape = features.getShape().stream().mapToLong(Integer::longValue).toArray();
            member(key + ".features.npy", npy(valueType, features.getValues(), shape), time);
        }
    }

    /** A duplicate paired with its image's tokens is a token sample of its own id; one without them is JSON alone. */
    private void writeDuplicate(DuplicateRecord duplicate, EncodedRecord originalTokens, Origin origin) throws IOException {
        if (originalTokens != null) {
            writeTokens(TOKENS.decode(originalTokens.value()), null, origin, duplicate);
            return;
        }
        ObjectNode json = JSON.createObjectNode();
        json.put("id", duplicate.getId());
        json.put("image_sha256", duplicate.getImageSha256());
        json.put("duplicate_of", duplicate.getDuplicateOf());
        source(json, origin);
        member(sampleKey(duplicate.getId()) + ".json", JSON.writeValueAsBytes(json), duplicate.getDetectedAt());
    }

    /** The input's file, and the metadata that came with it. */
    private static void source(ObjectNode json, Origin origin) {
        SourceFile file = origin.file();
        ObjectNode source = json.putObject("source");
        if (file == null) {
            source.put("topic", origin.topic());
        } else {
            source.put("path", file.path());
            source.put("member", file.member());
        }
        json.set("metadata", metadata(origin.metadata().json()));
        json.put("text", origin.metadata().text());
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

    private void member(String name, byte[] content, Instant time) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setModTime(Date.from(time));
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
