package io.vqrae.pipeline.testing;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** A tar shard as tests write one: file members in the order put, long names as POSIX tar keeps them. */
public final class TarShard implements Closeable {
    private final TarArchiveOutputStream tar;

    private TarShard(TarArchiveOutputStream tar) {
        this.tar = tar;
    }

    public static TarShard create(Path file) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(file));
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        return new TarShard(tar);
    }

    public TarShard put(String name, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
        return this;
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }
}
