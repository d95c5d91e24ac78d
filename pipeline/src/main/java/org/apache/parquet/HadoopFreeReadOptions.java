package org.apache.parquet;

import java.util.Map;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.filter2.compat.FilterCompat;
import org.apache.parquet.format.converter.ParquetMetadataConverter;

/**
 * {@link ParquetReadOptions} made without Hadoop, for {@code io.vqrae.pipeline.corpus.format.parquet.ParquetRecordFiles}.
 * It lives in parquet-java's package because only a package-private constructor makes them: parquet-java 1.18's
 * {@code ParquetReadOptions.Builder} always builds Hadoop's codec factory first ({@code HadoopCodecs}, which
 * loads Hadoop's compression classes) and asks {@code ParquetInputFormat} (Hadoop mapreduce) for the record
 * filter, and Hadoop is not on the job's classpath. The values are the builder's defaults (parquet-java 1.18.1),
 * but vectored IO, which is Hadoop's, and the record filter, which is none. A parquet-java upgrade that changes
 * the constructor fails the build here, not a read.
 */
public final class HadoopFreeReadOptions {
    private static final int MAX_ALLOCATION_BYTES = 8 * 1024 * 1024;

    private HadoopFreeReadOptions() {}

    /** Read options with {@code codecs} as the codec factory, reading every row, with no Hadoop class involved. */
    public static ParquetReadOptions of(ParquetConfiguration conf, CompressionCodecFactory codecs) {
        return new ParquetReadOptions(
                false, // useSignedStringMinMax
                true, // useStatsFilter
                true, // useDictionaryFilter
                true, // useRecordFilter
                true, // useColumnIndexFilter
                false, // usePageChecksumVerification
                true, // useBloomFilter
                false, // useOffHeapDecryptBuffer
                false, // useHadoopVectoredIo
                FilterCompat.NOOP, ParquetMetadataConverter.NO_FILTER, codecs, new HeapByteBufferAllocator(), MAX_ALLOCATION_BYTES,
                Map.of(), null, null, conf);
    }
}
