package io.vqrae.pipeline.cluster;

import io.vqrae.pipeline.config.JobConfig;
import io.vqrae.pipeline.kafka.OutputReader;
import io.vqrae.pipeline.testing.ReliabilitySection;
import io.vqrae.schemas.DeadLetterRecord;
import io.vqrae.schemas.FeatureRecord;
import io.vqrae.schemas.TokenRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The client side of {@code bin/smoke-cluster --campaign}: the committed outputs against the ids sent, and the report row. */
final class FaultCampaign {
    /** The committed outputs must have stopped growing for this long before the campaign is judged. */
    private static final Duration QUIET = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofSeconds(3);
    private static final String SECTION = "cluster-faults";
    private static final List<String> COLUMNS = List.of("run", "sent", "committed", "duplicates", "missing", "dead letters",
            "TaskManager kills", "JobManager kills", "broker restarts", "job restarts", "seconds");

    private FaultCampaign() {}

    /** The faults the harness injected, and what the job went through. */
    record Faults(String run, int taskManagerKills, int jobManagerKills, int brokerRestarts, int jobRestarts, int seconds) {}

    /**
     * Reads the committed outputs until every input has its outputs or nothing new was committed for
     * {@link #QUIET}; prints the campaign line and records it in the report.
     */
    static boolean check(JobConfig config, Path idsFile, Faults faults) throws IOException, InterruptedException {
        Set<String> good = new TreeSet<>();
        Set<String> broken = new TreeSet<>();
        SmokeClient.readIds(idsFile, good, broken);
        CampaignTally tally = null;
        long quietSince = System.nanoTime();
        while (true) {
            CampaignTally now = tally(config.kafka(), good, broken);
            if (!now.equals(tally)) {
                quietSince = System.nanoTime();
            }
            tally = now;
            if (tally.committed() == tally.sent() || System.nanoTime() - quietSince > QUIET.toNanos()) {
                break;
            }
            Thread.sleep(POLL.toMillis());
        }
        int kills = faults.taskManagerKills() + faults.jobManagerKills();
        System.out.printf("sent %d, committed %d, duplicates %d, missing %d, dead letters %d, kills %d, restarts %d%n",
                tally.sent(), tally.committed(), tally.duplicates(), tally.missing(), tally.deadLetters(), kills, faults.jobRestarts());
        if (tally.unexpected() > 0) {
            System.err.println("  MISMATCH: " + tally.unexpected() + " records for ids never sent, or on the wrong topic for their input");
        }
        record(tally, faults);
        return tally.exactlyOnce();
    }

    private static CampaignTally tally(JobConfig.Kafka kafka, Set<String> good, Set<String> broken) {
        Duration timeout = Duration.ofSeconds(60);
        JobConfig.Topics topics = kafka.topics();
        List<String> tokens = OutputReader.read(kafka, topics.tokens(), TokenRecord.getDecoder(), timeout).stream()
                .map(TokenRecord::getId).toList();
        List<String> features = OutputReader.read(kafka, topics.features(), FeatureRecord.getDecoder(), timeout).stream()
                .map(FeatureRecord::getId).toList();
        List<String> dead = OutputReader.read(kafka, topics.deadLetter(), DeadLetterRecord.getDecoder(), timeout).stream()
                .map(record -> String.valueOf(record.getId())).toList();
        return CampaignTally.of(good, broken, tokens, features, dead);
    }

    /** Replaces this run's row (by name) in the cluster-faults section, keeping the other runs' rows. */
    private static void record(CampaignTally tally, Faults faults) throws IOException {
        List<List<String>> rows = new ArrayList<>();
        Path existing = ReliabilitySection.directory().resolve(SECTION + ".json");
        if (Files.exists(existing)) {
            ReliabilitySection.read(existing).rows().stream().filter(row -> !row.get(0).equals(faults.run())).forEach(rows::add);
        }
        rows.add(List.of(faults.run(), str(tally.sent()), str(tally.committed()), str(tally.duplicates()), str(tally.missing()),
                str(tally.deadLetters()), str(faults.taskManagerKills()), str(faults.jobManagerKills()), str(faults.brokerRestarts()),
                str(faults.jobRestarts()), str(faults.seconds())));
        rows.sort((a, b) -> a.get(0).compareTo(b.get(0)));
        new ReliabilitySection(SECTION, "Cluster faults",
                "The job jar under `flink run` on a standalone cluster (`bin/smoke-cluster --campaign`): a JobManager, "
                        + "three TaskManagers of one slot each under a supervisor that starts a killed one again, a Kafka broker "
                        + "process; images streamed while TaskManagers (ones running the job's tasks), the JobManager (the job "
                        + "then resubmitted from its latest retained checkpoint) and the broker are killed with `kill -9` at "
                        + "random moments, each after the job recovered from the previous one. Outputs read `read_committed` "
                        + "and checked id by id: a good image has exactly one token and one feature record, a broken one "
                        + "exactly one dead letter.",
                COLUMNS, rows).write();
    }

    private static String str(int value) {
        return Integer.toString(value);
    }
}
