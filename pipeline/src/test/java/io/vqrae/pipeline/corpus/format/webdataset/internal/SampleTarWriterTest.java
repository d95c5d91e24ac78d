package io.vqrae.pipeline.corpus.format.webdataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SampleTarWriterTest {

    @Test
    void sampleKeysHaveNoDotsSoWebDatasetSplitsMembersAtTheExtension() {
        assertThat(SampleTarWriter.sampleKey("000000123")).isEqualTo("000000123");
        assertThat(SampleTarWriter.sampleKey("cats/photo.v2.jpg")).isEqualTo("cats/photo%2Ev2%2Ejpg");
        assertThat(SampleTarWriter.sampleKey("100%.png")).isEqualTo("100%25%2Epng");
    }
}
