package io.vqrae.operators;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.image.DecodeFailure;
import io.vqrae.operators.decode.ImagePreparer;
import io.vqrae.operators.encode.RecordEncoder;
import io.vqrae.operators.tokenize.BatchingTokenizerOperator;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every reason code a dead letter of the job can carry. Dashboards, alerts and downstream filters match on
 * these strings, so the list is fixed here: renaming a code fails this test, and a new code must be added
 * to it (and to docs/pipeline.md) on purpose.
 */
class ReasonCodesTest {

    @Test
    void theJobsReasonCodesAreExactlyTheDocumentedOnes() {
        List<String> codes = Stream.concat(
                        Arrays.stream(DecodeFailure.values()).map(DecodeFailure::code),
                        Stream.of(ImagePreparer.MALFORMED_RECORD, ImagePreparer.DECODER_ERROR,
                                BatchingTokenizerOperator.TOKENIZER_FAILED, RecordEncoder.RECORD_TOO_LARGE))
                .toList();
        assertThat(codes).containsExactly(
                "empty_input", "input_too_large", "unsupported_format", "truncated", "corrupt", "too_many_pixels",
                "invalid_dimensions", "unsupported_color_model", "out_of_memory",
                "malformed_record", "decoder_error", "tokenizer_failed", "record_too_large");
    }
}
