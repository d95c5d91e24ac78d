package io.vqrae.pipeline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.operators.encode.RecordLimits;
import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.embedded.EmbeddedKafka;
import io.vqrae.pipeline.kafka.KafkaClients;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.testing.TestCorpus;
import io.vqrae.schemas.ImageRecord;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/vqrae load}: a corpus of shards and a folder into the input topic, with a topic that takes every image. */
class LoadCommandTest {

    @Test
    void writesEveryImageOfShardsAndFoldersAsAnImageRecordWithItsMetadata(@TempDir Path dir) throws Exception {
        TestCorpus corpus = TestCorpus.write(dir, 4, 2);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(64 * 1024 * 1024)) {
            List<String> args = new ArrayList<>(List.of("load", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "corpus.images", "--input"));
            args.addAll(corpus.inputs());
            assertThat(VqraeCli.commandLine().execute(args.toArray(String[]::new))).isZero();

            JobConfig config = JobConfig.fromMap(Map.of("kafka.bootstrap-servers", kafka.bootstrapServers(), "kafka.topics.input", "corpus.images"));
            List<ImageRecord> records = OutputReader.read(config.kafka(), "corpus.images", ImageRecord.getDecoder(), Duration.ofMinutes(1));
            Map<String, ImageRecord> byId = new HashMap<>();
            records.forEach(record -> assertThat(byId.put(record.getId(), record)).as(record.getId()).isNull());
            // Every input with an image; the shard's sample without one is reported as skipped, not written.
            assertThat(byId.keySet()).containsExactlyInAnyOrderElementsOf(corpus.images().keySet());
            corpus.images().forEach((id, bytes) -> assertThat(bytes(byId.get(id).getImage())).as(id).isEqualTo(bytes));
            corpus.metadata().forEach((id, json) -> assertThat(byId.get(id).getMetadata()).as(id).containsEntry(LoadCommand.METADATA_JSON, json));
            corpus.captions().forEach((id, text) -> assertThat(byId.get(id).getMetadata()).as(id).containsEntry(LoadCommand.METADATA_TEXT, text));
            assertThat(byId.get("nested/scene.v2.png").getSourceUri()).endsWith("loose/nested/scene.v2.png");
            assertThat(byId.get(corpus.decodable().get(0)).getSourceUri()).contains("00000.tar#");

            try (Admin admin = Admin.create(KafkaClients.properties(config.kafka()))) {
                ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "corpus.images");
                int maxMessageBytes = Integer.parseInt(admin.describeConfigs(List.of(topic)).all().get().get(topic)
                        .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
                assertThat(maxMessageBytes).isEqualTo(RecordLimits.inputRecordBytes(config.limits()));
            }
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
