package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.DetokenizerSession;
import io.vqrae.models.onnx.SessionConfig;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.encode.TokenIds;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.corpus.format.OutputFolders;
import io.vqrae.pipeline.corpus.format.avro.AvroContainerFiles;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.schemas.TokenRecord;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vqrae detokenize} on every output this project writes: the three {@code tokenize-corpus} formats as
 * folders, a single WebDataset shard, a single Parquet file, a single Avro file and a topic. Each gives the same
 * PNGs, of the same names, as {@code reconstruct} gives the photos: the image's id, whatever the source.
 */
class DetokenizeFormatsTest {
    private static final ModelManifest MODEL = TestPaths.tinyManifest();
    private static final String MODEL_DIR = TestPaths.tinyModel().toString();
    private static final List<String> NAMES = List.of("a_cat.jpg.png", "dog.png.png");

    @TempDir
    Path temp;

    @Test
    void everyOutputFormatAndATopicDecodeToTheSamePngsNamedAfterTheImageIds() throws Exception {
        Path photos = temp.resolve("photos");
        Files.createDirectories(photos.resolve("a"));
        Files.copy(TestPaths.testImage("flower.png.im_q85_420.jpg"), photos.resolve("a/cat.jpg"));
        Files.copy(TestPaths.testImage("cvo9xd_keong_macan_srgb8.png"), photos.resolve("dog.png"));

        Map<String, Path> outputs = new LinkedHashMap<>();
        for (String format : List.of("webdataset", "avro", "parquet")) {
            Path output = temp.resolve("corpus-" + format);
            assertThat(VqraeCli.commandLine().execute("tokenize-corpus", "--model", MODEL_DIR, "--format", format,
                    "--set", "checkpoint.interval=200ms", "--output", output.toString(), photos.toString())).as(format).isZero();
            outputs.put(format + " folder", output);
        }
        outputs.put("one WebDataset shard", onlyFile(outputs.get("webdataset folder").resolve(OutputFolders.WEBDATASET), ".tar"));
        outputs.put("one Parquet file", onlyFile(outputs.get("parquet folder").resolve(OutputFolders.TOKENS), ".parquet"));
        outputs.put("one Avro file", onlyFile(outputs.get("avro folder").resolve(OutputFolders.TOKENS), ".avro"));

        // The token ids tokenize-corpus wrote, decoded here directly: what every source must give.
        List<TokenRecord> records = new ArrayList<>();
        AvroContainerFiles.readFile(new org.apache.flink.core.fs.Path(outputs.get("one Avro file").toUri()), TokenRecord.class, records::add);
        assertThat(records).extracting(TokenRecord::getId).containsExactlyInAnyOrder("a/cat.jpg", "dog.png");
        Map<String, byte[]> expected = new LinkedHashMap<>();
        try (DetokenizerSession decoder = DetokenizerSession.open(SessionConfig.cpu(MODEL))) {
            for (TokenRecord record : records) {
                expected.put(PngNames.safe(record.getId()) + ".png",
                        decoder.decode(List.of(TokenIds.decode(record.getTokenIds(), record.getDtype()))).get(0));
            }
        }

        try (EmbeddedKafka kafka = EmbeddedKafka.start(1 << 20)) {
            JobConfig config = JobConfig.fromMap(Map.of("kafka.bootstrap-servers", kafka.bootstrapServers()));
            try (Admin admin = Admin.create(KafkaClients.properties(config.kafka()))) {
                admin.createTopics(List.of(new NewTopic("tokens", 1, (short) 1))).all().get();
            }
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaClients.properties(config.kafka()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (TokenRecord record : records) {
                    ByteBuffer encoded = TokenRecord.getEncoder().encode(record);
                    byte[] value = new byte[encoded.remaining()];
                    encoded.get(value);
                    producer.send(new ProducerRecord<>("tokens", record.getId().getBytes(StandardCharsets.UTF_8), value)).get();
                }
            }
            for (Map.Entry<String, Path> source : outputs.entrySet()) {
                Path out = temp.resolve("png").resolve(source.getKey().replace(' ', '-'));
                assertThat(VqraeCli.commandLine().execute("detokenize", "--model", MODEL_DIR, "--output", out.toString(),
                        source.getValue().toString())).as(source.getKey()).isZero();
                assertPngs(source.getKey(), out, expected);
            }
            Path fromTopic = temp.resolve("png/topic");
            assertThat(VqraeCli.commandLine().execute("detokenize", "--model", MODEL_DIR, "--output", fromTopic.toString(),
                    "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "tokens")).isZero();
            assertPngs("topic", fromTopic, expected);
            assertThat(VqraeCli.commandLine().execute("detokenize", "--model", MODEL_DIR, "--output", fromTopic.toString(),
                    "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "no.such.topic")).as("a topic that does not exist").isEqualTo(2);
        }

        // The job jar holds no Hadoop: read Parquet in a JVM whose classpath lacks Hadoop's client jars, which this
        // test's classpath has (parquet-avro's own reader class cannot even be loaded without them).
        Path withoutHadoop = temp.resolve("png/without-hadoop");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        Files.readAllLines(TestPaths.root().resolve("deploy/flink-jvm-options")).stream()
                .filter(line -> !line.isBlank() && !line.startsWith("#")).forEach(command::add);
        String classpath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !Path.of(entry).getFileName().toString().startsWith("hadoop-"))
                .collect(Collectors.joining(File.pathSeparator));
        command.addAll(List.of("-cp", classpath, VqraeCli.class.getName(), "detokenize", "--model", MODEL_DIR,
                "--output", withoutHadoop.toString(), outputs.get("parquet folder").toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(temp.resolve("child.log").toFile()).start();
        assertThat(child.waitFor()).as(Files.readString(temp.resolve("child.log"))).isZero();
        assertThat(Files.readString(temp.resolve("child.log"))).doesNotContain("org/apache/hadoop");
        assertPngs("parquet folder, no Hadoop", withoutHadoop, expected);

        Path reconstructed = temp.resolve("png/reconstruct");
        assertThat(VqraeCli.commandLine().execute("reconstruct", "--model", MODEL_DIR, "--output", reconstructed.toString(),
                photos.toString())).isZero();
        assertThat(pngNames(reconstructed)).as("reconstruct names its PNGs as detokenize does").isEqualTo(NAMES);
    }

    private static void assertPngs(String source, Path folder, Map<String, byte[]> expected) throws Exception {
        assertThat(pngNames(folder)).as(source).isEqualTo(NAMES);
        int width = MODEL.imageWidth();
        int plane = MODEL.imageHeight() * width;
        for (Map.Entry<String, byte[]> png : expected.entrySet()) {
            BufferedImage image = ImageIO.read(folder.resolve(png.getKey()).toFile());
            byte[] chw = png.getValue();
            for (int p : new int[] {0, plane / 2 + 7, plane - 1}) {
                int rgb = (chw[p] & 255) << 16 | (chw[plane + p] & 255) << 8 | (chw[2 * plane + p] & 255);
                assertThat(image.getRGB(4 + p % width, 4 + p / width) & 0xffffff).as(source + " " + png.getKey() + " pixel " + p).isEqualTo(rgb);
            }
        }
    }

    private static List<String> pngNames(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        }
    }

    private static Path onlyFile(Path folder, String suffix) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> found = files.filter(file -> file.getFileName().toString().endsWith(suffix)
                    && !file.getFileName().toString().startsWith(".")).toList();
            assertThat(found).as(folder + " holds one " + suffix + " file").hasSize(1);
            return found.get(0);
        }
    }
}
