package io.vqrae.pipeline.cluster;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a fault campaign's committed outputs hold, id by id, against what was sent: a good image must have
 * exactly one token and one feature record, a broken one exactly one dead letter.
 *
 * @param sent inputs written
 * @param committed inputs whose outputs are all there (good: token and feature record; broken: dead letter)
 * @param duplicates records beyond the first for an id on any output topic
 * @param missing inputs with an output missing
 * @param deadLetters distinct ids in the dead-letter topic
 * @param unexpected records whose id was never sent, or that went to the wrong topic for their input
 */
record CampaignTally(int sent, int committed, int duplicates, int missing, int deadLetters, int unexpected) {

    static CampaignTally of(Set<String> good, Set<String> broken, Collection<String> tokenIds, Collection<String> featureIds,
            Collection<String> deadLetterIds) {
        Map<String, Integer> tokens = counts(tokenIds);
        Map<String, Integer> features = counts(featureIds);
        Map<String, Integer> dead = counts(deadLetterIds);
        int duplicates = 0;
        for (Map<String, Integer> topic : List.of(tokens, features, dead)) {
            for (int count : topic.values()) {
                duplicates += count - 1;
            }
        }
        int committed = 0;
        for (String id : good) {
            if (tokens.containsKey(id) && features.containsKey(id)) {
                committed++;
            }
        }
        for (String id : broken) {
            if (dead.containsKey(id)) {
                committed++;
            }
        }
        int unexpected = 0;
        for (String id : tokens.keySet()) {
            unexpected += good.contains(id) ? 0 : 1;
        }
        for (String id : features.keySet()) {
            unexpected += good.contains(id) ? 0 : 1;
        }
        for (String id : dead.keySet()) {
            unexpected += broken.contains(id) ? 0 : 1;
        }
        int sent = good.size() + broken.size();
        return new CampaignTally(sent, committed, duplicates, sent - committed, dead.size(), unexpected);
    }

    private static Map<String, Integer> counts(Collection<String> ids) {
        Map<String, Integer> counts = new HashMap<>();
        ids.forEach(id -> counts.merge(id, 1, Integer::sum));
        return counts;
    }

    boolean exactlyOnce() {
        return committed == sent && duplicates == 0 && unexpected == 0;
    }
}
