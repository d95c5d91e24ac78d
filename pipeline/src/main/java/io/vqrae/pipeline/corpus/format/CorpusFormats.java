package io.vqrae.pipeline.corpus.format;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.avro.AvroFormat;
import io.vqrae.pipeline.corpus.format.parquet.ParquetFormat;
import io.vqrae.pipeline.corpus.format.webdataset.WebDatasetFormat;
import java.util.List;

/** The corpus formats, by the names {@code corpus.format} and {@code _SUCCESS.json} give them. */
public final class CorpusFormats {
    private static final List<CorpusFormat> ALL = List.of(new WebDatasetFormat(), new AvroFormat(), new ParquetFormat());

    private CorpusFormats() {}

    /** The format a job's configuration asks for. */
    public static CorpusFormat of(JobConfig.OutputFormat format) {
        return named(format.name());
    }

    /**
     * The format of a name, in any case.
     *
     * @throws IllegalArgumentException naming the known formats, for a name that is none of them
     */
    public static CorpusFormat named(String name) {
        return ALL.stream().filter(format -> format.name().equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("No corpus format " + name + ": "
                        + ALL.stream().map(CorpusFormat::name).toList()));
    }
}
