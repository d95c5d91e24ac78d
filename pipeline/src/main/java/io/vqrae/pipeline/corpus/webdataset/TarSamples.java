package io.vqrae.pipeline.corpus.webdataset;

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
    /** A member: its bytes, or null when it was larger than the caller's limit (then only its size is known). */
    public record Member(String name, String key, String extension, byte[] data, long size) {}

    /** One sample: its key and members, in tar order. */
    public record Sample(String key, List<Member> members) {}

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
            // Bytes of a member left unread are skipped by the next getNextEntry.
            byte[] data = entry.getSize() > maxBytesByExtension.applyAsLong(extension) ? null : readAll(entry.getSize());
            return new Member(name, key, extension, data, entry.getSize());
        }
        return null;
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
