package io.vqrae.pipeline.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusRunIdentityTest {
    private static final CorpusRun.Identity EXACT =
            new CorpusRun.Identity(List.of("file:/corpus"), "vqrae-tiny 0.2.0", "webdataset", "per-token float16", true, 2, false);

    @Test
    void aRunJsonFromBeforeTheDraftSettingReadsAsAnExactRun(@TempDir Path output) throws Exception {
        // run.json as runs wrote it before limits.jpeg-draft existed: those runs decoded exactly.
        Path state = Files.createDirectories(output.resolve(CorpusRun.STATE_FOLDER));
        Files.writeString(state.resolve("run.json"), """
                {"inputs": ["file:/corpus"], "model": "vqrae-tiny 0.2.0", "format": "webdataset",
                 "features": "per-token float16", "dedup": true, "tokenizer_parallelism": 2}
                """, StandardCharsets.UTF_8);

        CorpusRun.Identity stored = CorpusRun.of(output.toString(), null).stored();

        assertThat(stored).isEqualTo(EXACT);
        assertThat(stored.change(EXACT)).isEmpty();
    }

    @Test
    void turningDraftDecodingOnIsAChangeOfRun(@TempDir Path output) throws Exception {
        CorpusRun run = CorpusRun.of(output.toString(), null);
        run.store(EXACT);
        CorpusRun.Identity draft =
                new CorpusRun.Identity(List.of("file:/corpus"), "vqrae-tiny 0.2.0", "webdataset", "per-token float16", true, 2, true);

        assertThat(run.stored().change(draft)).contains("limits.jpeg-draft was false, now true");
    }
}
