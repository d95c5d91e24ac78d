package io.vqrae.pipeline.corpus.format.parquet;

import io.airlift.compress.zstd.ZstdCompressor;
import java.nio.ByteBuffer;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Compresses Parquet pages with ZSTD in pure Java (aircompressor, which parquet-hadoop already depends on
 * for LZ4_RAW). parquet-java's own codec factory wraps Hadoop codecs and so loads Hadoop; this one needs
 * neither Hadoop nor a native library, so it also works where a JNI library cannot be unpacked and loaded.
 * Write-only: the job never reads its Parquet files back.
 */
final class PureJavaZstd implements CompressionCodecFactory {

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codecName) {
        if (codecName != CompressionCodecName.ZSTD) {
            throw new IllegalArgumentException("Only ZSTD is available, not " + codecName);
        }
        ZstdCompressor zstd = new ZstdCompressor();
        return new BytesInputCompressor() {
            /** Reused: the interface lets a result live only until the next call (the page writer copies it). */
            private ByteBuffer output = ByteBuffer.allocate(0);

            @Override
            public BytesInput compress(BytesInput page) {
                // A heap buffer, so there is nothing to release afterwards.
                ByteBuffer input = page.toByteBuffer(HeapByteBufferAllocator.getInstance(), heap -> {});
                int bound = zstd.maxCompressedLength(input.remaining());
                if (output.capacity() < bound) {
                    output = ByteBuffer.allocate(bound);
                }
                output.clear();
                zstd.compress(input, output);
                return BytesInput.from(output.array(), 0, output.position());
            }

            @Override
            public CompressionCodecName getCodecName() {
                return CompressionCodecName.ZSTD;
            }

            @Override
            public void release() {}
        };
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codecName) {
        throw new UnsupportedOperationException("Write-only codec factory");
    }

    @Override
    public void release() {}
}
