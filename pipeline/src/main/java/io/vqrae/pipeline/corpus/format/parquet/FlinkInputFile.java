package io.vqrae.pipeline.corpus.format.parquet;

import java.io.IOException;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.Path;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * A Parquet {@link InputFile} over a file of any Flink filesystem, the reading twin of {@link FlinkOutputFile}:
 * parquet-java's own input files are Hadoop's (or local only), and Hadoop is not on the job's classpath.
 */
final class FlinkInputFile implements InputFile {
    private final Path path;

    FlinkInputFile(Path path) {
        this.path = path;
    }

    @Override
    public long getLength() throws IOException {
        return path.getFileSystem().getFileStatus(path).getLen();
    }

    @Override
    public SeekableInputStream newStream() throws IOException {
        FSDataInputStream in = path.getFileSystem().open(path);
        return new DelegatingSeekableInputStream(in) {
            @Override
            public long getPos() throws IOException {
                return in.getPos();
            }

            @Override
            public void seek(long position) throws IOException {
                in.seek(position);
            }
        };
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
