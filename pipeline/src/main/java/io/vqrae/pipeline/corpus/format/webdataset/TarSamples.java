package io.vqrae.pipeline.corpus.format.webdataset;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The samples of a WebDataset tar, in order: runs of consecutive file members sharing a key, WebDataset's
 * rule (the key is the member name up to the first dot of its base name; the rest is the extension). Used
 * for the shards a corpus job reads (img2dataset's {@code KEY.jpg}, {@code KEY.json}, {@code KEY.txt}) and
 * the ones it writes.
 */
public final class TarSamples implements Closeable {
    /**
     * A member: its bytes, or null when it was larger than the caller's limit (then only its size is known).
     *
     * @param end the offset just past the member's data and padding, from the start of the stream: where the
     *     next member's header starts
     */
    public record Member(String name, String key, String extension, byte[] data, long size, long end) {}

    /** Tar data is stored in 512-byte records. */
    private static final int RECORD = 512;

    /**
     * One sample: its key and members, in tar order.
     *
     * @param key the sample's key
     * @param members its members
     */
    public record Sample(String key, List<Member> members) {
        /** Where the next sample's first header starts, from the start of the stream. */
        public long end() {
            return members.get(members.size() - 1).end();
        }
    }

    private final TarArchiveInputStream tar;
    private final ToLongFunction<String> maxBytesByExtension;
    private Member lookahead;

    /**
     * @param in the tar's bytes; closed with this
     * @param maxBytesByExtension the largest member of an extension read into memory
     */
    public TarSamples(InputStream in, ToLongFunction<String> maxBytesByExtension) {
        this.tar = new TarArchiveInputStream(in);
        this.maxBytesByExtension = maxBytesByExtension;
    }

    /** The next sample, or null at the end of the tar. */
    public Sample next() throws IOException {
        Member first = lookahead != null ? lookahead : nextMember();
        lookahead = null;
        if (first == null) {
            return null;
        }
        List<Member> members = new ArrayList<>();
        members.add(first);
        Member member;
        while ((member = nextMember()) != null && member.key().equals(first.key())) {
            members.add(member);
        }
        lookahead = member;
        return new Sample(first.key(), members);
    }

    private Member nextMember() throws IOException {
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            if (!entry.isFile()) {
                continue;
            }
            String name = entry.getName();
            int slash = name.lastIndexOf('/');
            int dot = name.indexOf('.', slash + 1);
            String key = dot < 0 ? name : name.substring(0, dot);
            String extension = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
            // Right after the header(s), the bytes read are where the member's data starts.
            long end = ceilRecord(tar.getBytesRead() + entry.getSize());
            // Bytes of a member left unread are skipped by the next getNextEntry.
            byte[] data = entry.getSize() > maxBytesByExtension.applyAsLong(extension) ? null : readAll(entry.getSize());
            return new Member(name, key, extension, data, entry.getSize(), end);
        }
        return null;
    }

    private static long ceilRecord(long offset) {
        return (offset + RECORD - 1) / RECORD * RECORD;
    }

    private byte[] readAll(long size) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) size);
        tar.transferTo(out);
        return out.toByteArray();
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }
}
