package io.vqrae.operators.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.vqrae.models.manifest.ModelManifest;
import io.vqrae.models.onnx.FeatureDtype;
import io.vqrae.models.onnx.ModelConfig;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.Origin;
import io.vqrae.operators.data.PreprocessedImage;
import io.vqrae.operators.data.Rejection;
import io.vqrae.operators.data.TokenizedImage;
import io.vqrae.operators.metrics.MetricLabels;
import io.vqrae.operators.metrics.MetricsConfig;
import io.vqrae.operators.metrics.MetricsSpec;
import io.vqrae.operators.metrics.Scraped;
import io.vqrae.operators.report.ReportConfig;
import io.vqrae.schemas.FailureStage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Flush causes of the batching tokenizer, asserted from its Prometheus series, and which failures it handles, on
 * the real tiny model. Each test's job has a name of its own, so its series are its own.
 */
class BatchingTokenizerOperatorTest {
    private static final Path MODEL_DIR = TestPaths.tinyModel();
    private static int imageBytes;

    @BeforeAll
    static void readManifest() throws Exception {
        imageBytes = ModelManifest.load(MODEL_DIR).imageBytes();
    }

    @Test
    void fullBatchesTimerFlushesCheckpointFlushesAndEndOfInput() throws Exception {
        String job = "flush-causes";
        BatchingTokenizerOperator operator = new BatchingTokenizerOperator(
                spec(job, new Batching(4, Duration.ofMillis(100)), new FeatureOutput(FeatureMode.POOLED, FeatureDtype.FLOAT16)));
        Random random = new Random(7);
        int next = 0;
        try (OneInputStreamOperatorTestHarness<PreprocessedImage, TokenizedImage> harness =
                new OneInputStreamOperatorTestHarness<>(operator)) {
            harness.setProcessingTime(0);
            harness.open();

            // Under load: 9 images arrive before any timer; two full batches go out, one image waits.
            for (int i = 0; i < 9; i++) {
                harness.processElement(image(next++, random), 0);
            }
            awaitResults(harness, operator);
            assertThat(flushes(job, "full")).isEqualTo(2);
            assertThat(harness.extractOutputValues()).hasSize(8);

            // The waiting image's timer fires at its deadline and flushes the partial batch.
            harness.setProcessingTime(99);
            assertThat(operator.inFlight()).isZero();
            awaitResults(harness, operator);
            assertThat(flushes(job, "timer")).isZero();
            harness.setProcessingTime(100);
            assertThat(operator.inFlight()).isEqualTo(1);
            awaitResults(harness, operator);
            assertThat(flushes(job, "timer")).isEqualTo(1);
            assertThat(harness.extractOutputValues()).hasSize(9);

            // A checkpoint barrier flushes what is buffered and waits for it, so nothing is in flight at the
            // snapshot: no awaitResults needed.
            harness.setProcessingTime(150);
            for (int i = 0; i < 3; i++) {
                harness.processElement(image(next++, random), 150);
            }
            harness.prepareSnapshotPreBarrier(1);
            harness.snapshot(1, 160);
            assertThat(flushes(job, "checkpoint")).isEqualTo(1);
            assertThat(harness.extractOutputValues()).hasSize(12);

            // The flushed batch's timer (due at 250) was cancelled, but a cancelled timer can still fire when
            // it was already running; it must not flush the next, younger batch (due at 300) early. The
            // harness never fires cancelled timers, so deliver the stale one by hand.
            harness.setProcessingTime(200);
            harness.processElement(image(next++, random), 200);
            operator.onProcessingTime(250);
            assertThat(operator.inFlight()).isZero();
            assertThat(flushes(job, "timer")).isEqualTo(1);
            assertThat(harness.extractOutputValues()).hasSize(12);

            // End of input flushes the rest.
            harness.endInput();
            operator.finish();
            assertThat(flushes(job, "end_of_input")).isEqualTo(1);

            List<TokenizedImage> out = harness.extractOutputValues();
            assertThat(out).extracting(TokenizedImage::id)
                    .containsExactly("img-0", "img-1", "img-2", "img-3", "img-4", "img-5", "img-6", "img-7", "img-8",
                            "img-9", "img-10", "img-11", "img-12");
            assertThat(Scraped.counter("vqrae_images_tokenized", job, Map.of())).isEqualTo(13);
            // Batches of 4, 4, 1 (timer), 3 (checkpoint), 1 (end of input).
            HistogramSnapshot.HistogramDataPointSnapshot sizes = Scraped.histogram("vqrae_batch_size", job);
            assertThat(sizes.getCount()).isEqualTo(5);
            assertThat(sizes.getSum()).isEqualTo(13);
            assertThat(sizes.getClassicBuckets().getCount(0)).as("batches of 1").isEqualTo(2);
            assertThat(Scraped.histogram("vqrae_inference_batch_seconds", job).getCount()).isEqualTo(5);
            assertThat(Scraped.counter("vqrae_batch_refusals", job, Map.of())).isZero();
            assertThat(out.get(0).tokenIds()).hasSize(16 * 16);
            assertThat(out.get(0).features()).satisfies(features -> {
                assertThat(features.mode()).isEqualTo(FeatureMode.POOLED);
                assertThat(features.dtype()).isEqualTo(FeatureDtype.FLOAT16);
                assertThat(features.shape()).containsExactly(128);
                assertThat(features.values()).hasSize(128 * 2);
            });
        }
    }

    @Test
    void anImageTheModelFailsOnIsDeadLetteredWithoutLosingItsBatchMates() throws Exception {
        String job = "poison-image";
        BatchingTokenizerOperator operator = new BatchingTokenizerOperator(options(job, 4, Duration.ofSeconds(10)));
        Random random = new Random(11);
        try (OneInputStreamOperatorTestHarness<PreprocessedImage, TokenizedImage> harness =
                new OneInputStreamOperatorTestHarness<>(operator)) {
            harness.open();
            harness.processElement(image(0, random), 0);
            // The session refuses a tensor of the wrong size for the whole batch: the poison image.
            harness.processElement(new PreprocessedImage("poison", "sha", new byte[12], Origin.of("in", 0, 1)), 1);
            harness.processElement(image(2, random), 0);
            harness.processElement(image(3, random), 0);
            awaitResults(harness, operator);

            assertThat(Scraped.counter("vqrae_batch_refusals", job, Map.of())).isEqualTo(1);
            assertThat(harness.extractOutputValues()).extracting(TokenizedImage::id)
                    .containsExactly("img-0", "img-2", "img-3");
            assertThat(harness.extractOutputValues()).allSatisfy(result -> assertThat(result.features()).isNull());
            assertThat(harness.getSideOutput(BatchingTokenizerOperator.REJECTED)).singleElement()
                    .satisfies(record -> assertThat(record.getTimestamp()).isEqualTo(1));
            List<Rejection> rejected = harness.getSideOutput(BatchingTokenizerOperator.REJECTED).stream()
                    .map(record -> record.getValue()).toList();
            assertThat(rejected).singleElement().satisfies(rejection -> {
                assertThat(rejection.id()).isEqualTo("poison");
                assertThat(rejection.stage()).isEqualTo(FailureStage.tokenize);
                assertThat(rejection.reason().code()).isEqualTo("tokenizer_failed");
                assertThat(rejection.message()).contains("has 12 bytes");
                assertThat(rejection.origin().offset()).isEqualTo(1L);
            });
            assertThat(Scraped.counter("vqrae_images_tokenized", job, Map.of())).isEqualTo(3);
        }
    }

    @Test
    void aFailureThatIsNotTheImagesFaultFailsTheTaskInsteadOfDeadLetteringTheBatch() throws Exception {
        String job = "runtime-lost";
        BatchingTokenizerOperator operator = new BatchingTokenizerOperator(options(job, 2, Duration.ofSeconds(10)));
        Random random = new Random(5);
        try (OneInputStreamOperatorTestHarness<PreprocessedImage, TokenizedImage> harness =
                new OneInputStreamOperatorTestHarness<>(operator)) {
            harness.open();
            harness.processElement(image(0, random), 0);
            // The runtime goes away under the operator (as with a lost GPU): every encode now fails.
            operator.session().close();

            harness.processElement(image(1, random), 0);
            assertThatThrownBy(() -> awaitResults(harness, operator))
                    .isInstanceOf(BatchingTokenizerOperator.TokenizerFailure.class)
                    .hasMessageContaining("a batch of 2 images")
                    .cause().isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is closed");
            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(BatchingTokenizerOperator.REJECTED)).isNullOrEmpty();
            assertThat(Scraped.counter("vqrae_images_tokenized", job, Map.of())).isZero();
            assertThat(Scraped.counter("vqrae_batch_refusals", job, Map.of())).isZero();
        }
    }

    @Test
    void aWatermarkFlushesTheBufferFirstAndResultsKeepTheirInputsTimestamps() throws Exception {
        String job = "watermark";
        BatchingTokenizerOperator operator = new BatchingTokenizerOperator(options(job, 4, Duration.ofSeconds(10)));
        Random random = new Random(3);
        try (OneInputStreamOperatorTestHarness<PreprocessedImage, TokenizedImage> harness =
                new OneInputStreamOperatorTestHarness<>(operator)) {
            harness.open();
            harness.processElement(image(0, random), 5);
            harness.processElement(image(1, random), 7);
            harness.processWatermark(new Watermark(10));

            assertThat(flushes(job, "watermark")).isEqualTo(1);
            List<Object> out = new ArrayList<>(harness.getOutput());
            assertThat(out).hasSize(3);
            assertThat(out.get(0)).isInstanceOfSatisfying(StreamRecord.class, record -> {
                assertThat(((TokenizedImage) record.getValue()).id()).isEqualTo("img-0");
                assertThat(record.getTimestamp()).isEqualTo(5);
            });
            assertThat(out.get(1)).isInstanceOfSatisfying(StreamRecord.class, record -> {
                assertThat(((TokenizedImage) record.getValue()).id()).isEqualTo("img-1");
                assertThat(record.getTimestamp()).isEqualTo(7);
            });
            assertThat(out.get(2)).isEqualTo(new Watermark(10));
        }
    }

    /**
     * Runs the harness's mailbox (this thread) until the operator has no batch in flight: the encoder works on its
     * own thread and hands results back as mails.
     */
    private static void awaitResults(OneInputStreamOperatorTestHarness<PreprocessedImage, TokenizedImage> harness,
            BatchingTokenizerOperator operator) throws Exception {
        while (operator.inFlight() > 0) {
            harness.getTaskMailbox().take(TaskMailbox.MIN_PRIORITY).run();
        }
    }

    /** Batches of {@code job} flushed for {@code cause}. */
    private static double flushes(String job, String cause) {
        return Scraped.counter("vqrae_batch_flushes", job, Map.of("cause", cause));
    }

    private static TokenizerSpec options(String job, int maxBatchSize, Duration maxBatchDelay) {
        return spec(job, new Batching(maxBatchSize, maxBatchDelay), new FeatureOutput(FeatureMode.OFF, FeatureDtype.FLOAT16));
    }

    private static TokenizerSpec spec(String job, Batching batching, FeatureOutput features) {
        ModelConfig oneThread = ModelConfig.DEFAULT.with(model -> model.dir(MODEL_DIR.toString()).deviceIds(List.of(0)).intraOpThreads(1));
        return new TokenizerSpec(TestPaths.manifest(MODEL_DIR), oneThread, batching, features,
                new MetricsSpec(MetricsConfig.OFF, MetricLabels.of(job, TestPaths.manifest(MODEL_DIR)), ReportConfig.OFF));
    }

    private static PreprocessedImage image(int i, Random random) {
        byte[] chw = new byte[imageBytes];
        random.nextBytes(chw);
        return new PreprocessedImage("img-" + i, "sha", chw, Origin.of("in", 0, i));
    }
}
