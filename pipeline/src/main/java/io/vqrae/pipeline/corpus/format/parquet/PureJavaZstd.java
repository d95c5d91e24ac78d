package io.vqrae.pipeline.corpus.format.parquet;

import io.airlift.compress.zstd.ZstdCompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Compresses and decompresses Parquet pages with ZSTD in pure Java (aircompressor, which parquet-hadoop
 * already depends on for LZ4_RAW). parquet-java's own codec factory wraps Hadoop codecs and so loads Hadoop;
 * this one needs neither Hadoop nor a native library, so it also works where a JNI library cannot be unpacked
 * and loaded. It reads what the job writes: ZSTD pages (and uncompressed ones).
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
        if (codecName != CompressionCodecName.ZSTD && codecName != CompressionCodecName.UNCOMPRESSED) {
            throw new IllegalArgumentException("Only ZSTD and uncompressed pages can be read, not " + codecName);
        }
        boolean compressed = codecName == CompressionCodecName.ZSTD;
        ZstdDecompressor zstd = new ZstdDecompressor();
        return new BytesInputDecompressor() {
            @Override
            public BytesInput decompress(BytesInput page, int decompressedSize) throws IOException {
                if (!compressed) {
                    return page;
                }
                byte[] input = page.toByteArray();
                byte[] output = new byte[decompressedSize];
                int size = zstd.decompress(input, 0, input.length, output, 0, decompressedSize);
                if (size != decompressedSize) {
                    throw new IOException("A ZSTD page decompressed to " + size + " bytes, its header says " + decompressedSize);
                }
                return BytesInput.from(output);
            }

            /** As parquet-java's heap codecs do: {@code output} advances past what was written, {@code input} does not. */
            @Override
            public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize) throws IOException {
                byte[] page = new byte[compressedSize];
                input.duplicate().get(page);
                output.put(decompress(BytesInput.from(page), decompressedSize).toByteArray());
            }

            @Override
            public void release() {}
        };
    }

    @Override
    public void release() {}
}
