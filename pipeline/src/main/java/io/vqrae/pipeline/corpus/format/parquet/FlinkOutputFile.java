package io.vqrae.pipeline.corpus.format.parquet;

import java.io.IOException;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;

/**
 * A Parquet {@link OutputFile} over a Flink part-file stream, which the file sink opened and will commit:
 * parquet-java may create its stream once, and closing that stream leaves the sink's open.
 */
final class FlinkOutputFile implements OutputFile {
    private final FSDataOutputStream out;
    private boolean created;

    FlinkOutputFile(FSDataOutputStream out) {
        this.out = out;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) throws IOException {
        if (created) {
            throw new IOException("The part file's stream was already handed to a Parquet writer");
        }
        created = true;
        return new PositionOutputStream() {
            @Override
            public long getPos() throws IOException {
                return out.getPos();
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }

            @Override
            public void close() throws IOException {
                // The writer closes its stream after the footer; the sink must still persist and commit it.
                out.flush();
            }
        };
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
        return create(blockSizeHint);
    }

    /** No: row groups are not aligned to file-system blocks (nor padded to them). */
    @Override
    public boolean supportsBlockSize() {
        return false;
    }

    @Override
    public long defaultBlockSize() {
        return 0;
    }
}
