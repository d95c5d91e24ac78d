package io.vqrae.pipeline.cli;

import io.vqrae.operators.data.InputImage;
import io.vqrae.operators.data.SourceFile;
import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.source.CorpusInputs;
import io.vqrae.pipeline.corpus.source.reader.CorpusFileReader;
import io.vqrae.pipeline.corpus.source.split.CorpusSplit;
import io.vqrae.pipeline.kafka.InputWriter;
import io.vqrae.pipeline.kafka.TopicProvisioner;
import io.vqrae.pipeline.progress.Progress;
import io.vqrae.pipeline.storage.ObjectStores;
import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
        name = "load",
        mixinStandardHelpOptions = true,
        description = {
            "Writes image files and WebDataset .tar shards into the job's input topic as ImageRecords.",
            "An image's id is its shard key or its path below the folder named; its sidecar JSON and text become metadata json"
                + " and txt. The topic is created with a max.message.bytes that fits limits.max-image-bytes."
        })
final class LoadCommand implements Callable<Integer> {
    /** ImageRecord metadata keys of an input's JSON and text sidecars. */
    static final String METADATA_JSON = "json";
    static final String METADATA_TEXT = "txt";

    @Mixin
    ConfigOptions config = new ConfigOptions();

    @Mixin
    CorpusInputOptions inputs = new CorpusInputOptions();

    @Option(names = {"--input-topic", "--topic"}, paramLabel = "TOPIC",
            description = "Overrides kafka.topics.input (default: vqrae.images), as in run; --topic is its old name, still accepted.")
    String topic;

    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "Overrides kafka.bootstrap-servers.")
    String bootstrapServers;

    private final PrintStream err;

    LoadCommand() {
        this(System.err);
    }

    LoadCommand(PrintStream err) {
        this.err = err;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Map<String, String> options = new LinkedHashMap<>();
        if (topic != null) {
            options.put("kafka.topics.input", topic);
        }
        if (bootstrapServers != null) {
            options.put("kafka.bootstrap-servers", bootstrapServers);
        }
        JobConfig jobConfig = config.load(options);
        ObjectStores.requireBuckets(inputs.all(), jobConfig.s3());
        CorpusInputs corpus = inputs.resolve();
        List<CorpusSplit> files = corpus.splits();
        TopicProvisioner.provisionInput(jobConfig.kafka(), RecordLimits.inputRecordBytes(jobConfig.limits()));

        AtomicLong acknowledged = new AtomicLong();
        AtomicLong filesDone = new AtomicLong();
        AtomicLong skipped = new AtomicLong();
        long start = System.nanoTime();
        try (InputWriter writer = new InputWriter(jobConfig.kafka());
                Progress progress = Progress.start(err, files.size(), "files", filesDone::get, skipped::get, "skipped")) {
            for (CorpusSplit file : files) {
                try (CorpusFileReader reader = CorpusInputs.open(file, jobConfig.limits())) {
                    InputImage input;
                    while ((input = reader.next()) != null) {
                        SourceFile source = input.origin().file();
                        if (!input.readable()) {
                            // Nothing to write: what the job would dead-letter is reported here instead.
                            skipped.incrementAndGet();
                            err.println("load: skipped " + input.id() + ": " + input.unreadable().message());
                            continue;
                        }
                        String uri = source.member() == null ? source.path() : source.path() + "#" + source.member();
                        writer.sendAsync(input.id(), input.payload(), uri, metadata(source), acknowledged::incrementAndGet);
                    }
                }
                filesDone.incrementAndGet();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        err.printf(Locale.ROOT, "load: %d images from %d files written to %s in %.1f s (%.1f images/s), %d skipped%n",
                acknowledged.get(), files.size(), jobConfig.kafka().topics().input(), seconds, acknowledged.get() / seconds, skipped.get());
        if (acknowledged.get() == 0) {
            throw new NoUsableInputException(skipped.get(), "above");
        }
        return 0;
    }

    private static Map<String, String> metadata(SourceFile source) {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (source.metadataJson() != null) {
            metadata.put(METADATA_JSON, source.metadataJson());
        }
        if (source.text() != null) {
            metadata.put(METADATA_TEXT, source.text());
        }
        return metadata;
    }
}
