package io.vqrae.pipeline.testing;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * Runs a bounded job to its end on a MiniCluster of its own and says how often its tasks were restarted, read
 * from the finished job's execution graph: every task restart starts a new execution attempt, so the highest
 * attempt number among the job's subtasks is the number of restarts the job went through.
 */
public final class ObservedRun {
    /** Restarts allowed before the job fails: enough to see a crash loop in the count rather than as a hang. */
    private static final int RESTART_ATTEMPTS = 2;

    /**
     * @param status the job's final status ({@code FINISHED} unless it failed past its restarts)
     * @param restarts how many times the job's tasks were restarted
     * @param accumulators the finished job's accumulators (empty if it failed)
     */
    public record Result(JobStatus status, int restarts, Map<String, Object> accumulators) {}

    private ObservedRun() {}

    /** Runs what {@code job} wires into an environment of {@code slots} parallelism. */
    public static Result run(Consumer<StreamExecutionEnvironment> job, String name, int slots) throws Exception {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        // Any free port: other clusters may run on this machine.
        conf.set(RestOptions.BIND_PORT, "0");
        MiniClusterConfiguration cluster = new MiniClusterConfiguration.Builder()
                .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(slots).build();
        try (MiniCluster miniCluster = new MiniCluster(cluster)) {
            miniCluster.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(slots);
            job.accept(env);
            StreamGraph graph = env.getStreamGraph();
            graph.setJobName(name);
            JobID id = miniCluster.submitJob(graph).get().getJobID();
            JobResult result = miniCluster.requestJobResult(id).get();
            AccessExecutionGraph executed = miniCluster.getArchivedExecutionGraph(id).get();
            int restarts = 0;
            for (AccessExecutionVertex vertex : executed.getAllExecutionVertices()) {
                restarts = Math.max(restarts, vertex.getCurrentExecutionAttempt().getAttemptNumber());
            }
            Map<String, Object> accumulators = result.isSuccess()
                    ? result.toJobExecutionResult(ObservedRun.class.getClassLoader()).getAllAccumulatorResults()
                    : Map.of();
            return new Result(executed.getState(), restarts, accumulators);
        }
    }
}
