package io.vqrae.pipeline.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CampaignTallyTest {
    private static final Set<String> GOOD = Set.of("a", "b", "c");
    private static final Set<String> BROKEN = Set.of("x");

    @Test
    void everyInputOnceIsExactlyOnce() {
        CampaignTally tally = CampaignTally.of(GOOD, BROKEN, List.of("a", "b", "c"), List.of("c", "b", "a"), List.of("x"));

        assertThat(tally).isEqualTo(new CampaignTally(4, 4, 0, 0, 1, 0));
        assertThat(tally.exactlyOnce()).isTrue();
    }

    @Test
    void countsEveryRecordBeyondTheFirstPerTopicAsADuplicate() {
        CampaignTally tally = CampaignTally.of(GOOD, BROKEN, List.of("a", "a", "b", "c"), List.of("a", "b", "c", "c", "c"), List.of("x", "x"));

        assertThat(tally.duplicates()).isEqualTo(4);
        assertThat(tally.committed()).isEqualTo(4);
        assertThat(tally.exactlyOnce()).isFalse();
    }

    @Test
    void aGoodImageNeedsBothItsTokenAndItsFeatureRecord() {
        CampaignTally tally = CampaignTally.of(GOOD, BROKEN, List.of("a", "b", "c"), List.of("a", "b"), List.of());

        assertThat(tally.committed()).isEqualTo(2);
        assertThat(tally.missing()).isEqualTo(2);
        assertThat(tally.deadLetters()).isZero();
    }

    @Test
    void anOutputOnTheWrongTopicOrForAnIdNeverSentIsUnexpected() {
        CampaignTally tally = CampaignTally.of(GOOD, BROKEN, List.of("a", "b", "c", "x"), List.of("a", "b", "c"), List.of("x", "zz"));

        assertThat(tally.unexpected()).isEqualTo(2);
        assertThat(tally.exactlyOnce()).isFalse();
    }
}
