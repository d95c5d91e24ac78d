package io.vqrae.pipeline.corpus.format.webdataset.internal;

import java.io.IOException;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.RecoverableWriter;

/**
 * The recoverable writer of a folder's filesystem, made on first use: the sink's serializers need it to
 * (de)serialize recoverables, but are created where no filesystem may be touched yet (when the job is built).
 */
final class LazyRecoverableWriter {
    private final Path folder;
    private RecoverableWriter writer;

    LazyRecoverableWriter(Path folder) {
        this.folder = folder;
    }

    RecoverableWriter get() throws IOException {
        if (writer == null) {
            writer = folder.getFileSystem().createRecoverableWriter();
        }
        return writer;
    }
}
