package io.vqrae.operators;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqrae.models.image.DecodeFailure;
import io.vqrae.models.testing.TestPaths;
import io.vqrae.operators.data.ReasonCode;
import io.vqrae.schemas.FailureStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every reason code an input can be refused with. Dashboards, alerts and downstream filters match on these
 * strings, so the list is fixed here: renaming a code fails this test, and a new code must be added to it on
 * purpose. docs/pipeline.md's table of reason codes is {@link ReasonCode}'s, row for row.
 */
class ReasonCodesTest {
    private static final Path DOCS = TestPaths.root().resolve("docs/pipeline.md");
    private static final String TABLE_START = "<!-- reason codes: ReasonCode's, checked by ReasonCodesTest -->\n";
    private static final String TABLE_END = "<!-- end of reason codes -->\n";

    @Test
    void theReasonCodesAreExactlyTheDocumentedOnes() {
        assertThat(Arrays.stream(ReasonCode.values()).map(ReasonCode::code)).containsExactly(
                "malformed_record", "empty_input", "input_too_large", "unsupported_format", "truncated", "corrupt", "too_many_pixels",
                "invalid_dimensions", "unsupported_color_model", "out_of_memory", "decoder_error", "tokenizer_failed",
                "record_too_large", "unreadable_file");
        assertThat(Arrays.stream(ReasonCode.values()).filter(r -> !r.deadLetter())).containsExactly(ReasonCode.UNREADABLE_FILE);
    }

    @Test
    void eachDecoderFailureIsTheReasonCodeOfItsName_refusedAtDecode() {
        for (DecodeFailure failure : DecodeFailure.values()) {
            ReasonCode reason = ReasonCode.of(failure);
            assertThat(reason.name()).isEqualTo(failure.name());
            assertThat(reason.code()).isEqualTo(failure.code());
            assertThat(reason.stage()).isEqualTo(FailureStage.decode);
        }
    }

    @Test
    void docsPipelineMd_holdsReasonCodesTable() throws IOException {
        String docs = Files.readString(DOCS);
        int start = docs.indexOf(TABLE_START);
        int end = docs.indexOf(TABLE_END);
        assertThat(start).as("docs/pipeline.md has the line " + TABLE_START.strip()).isNotNegative();
        assertThat(end).as("docs/pipeline.md has the line " + TABLE_END.strip()).isGreaterThan(start);
        assertThat(docs.substring(start + TABLE_START.length(), end))
                .as("docs/pipeline.md's table of reason codes is not ReasonCode's; put in this one (the expected value)")
                .isEqualTo(table());
    }

    /** The Markdown table of {@link ReasonCode}, one row per code in declaration order. */
    private static String table() {
        return "| code | stage | meaning |\n|---|---|---|\n" + Arrays.stream(ReasonCode.values())
                .map(r -> "| `" + r.code() + "` | " + r.stage() + " | " + r.description() + " |\n")
                .collect(Collectors.joining());
    }
}
