package io.vqrae.pipeline.corpus.source.reader;

import io.vqrae.operators.data.InputImage;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.SingletonResultIterator;

/**
 * The {@link BulkFormat} of the corpus source: each split is one whole file (shards and images are never
 * cut), read by {@link CorpusFileReader}. A bulk format rather than a stream format because a loose
 * image's id and sidecars come from its path, which only a bulk format's reader is given.
 *
 * <p>Positions are record counts ({@link CheckpointedPosition#NO_OFFSET} plus the inputs already emitted):
 * a restored reader re-opens the file and skips what the checkpoint covered, so no input of a shard is
 * emitted twice or lost, and finished files are not read again at all (the enumerator's state).
 */
public final class ImageFileFormat implements BulkFormat<InputImage, FileSourceSplit> {
    private static final long serialVersionUID = 1L;

    private final CorpusInputs inputs;
    private final int maxImageBytes;

    /**
     * @param inputs the inputs as given, so a loose file's id is its path below its folder
     * @param maxImageBytes the largest image read into memory
     */
    public ImageFileFormat(CorpusInputs inputs, int maxImageBytes) {
        this.inputs = inputs;
        this.maxImageBytes = maxImageBytes;
    }

    @Override
    public Reader<InputImage> createReader(Configuration config, FileSourceSplit split) throws IOException {
        return new SplitReader(CorpusFileReader.open(split.path(), split.fileSize(), inputs.idOf(split.path()), maxImageBytes), 0);
    }

    @Override
    public Reader<InputImage> restoreReader(Configuration config, FileSourceSplit split) throws IOException {
        long emitted = split.getReaderPosition().map(CheckpointedPosition::getRecordsAfterOffset).orElse(0L);
        CorpusFileReader reader = CorpusFileReader.open(split.path(), split.fileSize(), inputs.idOf(split.path()), maxImageBytes);
        for (long i = 0; i < emitted; i++) {
            if (reader.next() == null) {
                break;
            }
        }
        return new SplitReader(reader, emitted);
    }

    @Override
    public boolean isSplittable() {
        return false;
    }

    @Override
    public TypeInformation<InputImage> getProducedType() {
        return TypeInformation.of(InputImage.class);
    }

    private static final class SplitReader implements Reader<InputImage> {
        private final CorpusFileReader reader;
        private long emitted;

        SplitReader(CorpusFileReader reader, long emitted) {
            this.reader = reader;
            this.emitted = emitted;
        }

        @Override
        public RecordIterator<InputImage> readBatch() throws IOException {
            InputImage next = reader.next();
            if (next == null) {
                return null;
            }
            SingletonResultIterator<InputImage> batch = new SingletonResultIterator<>();
            batch.set(next, CheckpointedPosition.NO_OFFSET, ++emitted);
            return batch;
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }
}
