package io.vqrae.pipeline.corpus.sink.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WebDatasetWriterTest {

    @Test
    void sampleKeysHaveNoDotsSoWebDatasetSplitsMembersAtTheExtension() {
        assertThat(WebDatasetWriter.sampleKey("000000123")).isEqualTo("000000123");
        assertThat(WebDatasetWriter.sampleKey("cats/photo.v2.jpg")).isEqualTo("cats/photo%2Ev2%2Ejpg");
        assertThat(WebDatasetWriter.sampleKey("100%.png")).isEqualTo("100%25%2Epng");
    }
}
