package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/prometheus/alerts.yml: every alert's unit tests pass under Debian's {@code promtool test rules} (and fail
 * without the alert), each alert has its summary, description and runbook section, the endpoint alert matches both
 * scrape configurations, and deploy/k8s/prometheus-rule.yaml (generated from it, K8sCopiesTest) binds as the same rules.
 */
class AlertRulesTest {
    static final Path PROMETHEUS = Manifests.DEPLOY.resolve("prometheus");
    static final Path ALERTS = PROMETHEUS.resolve("alerts.yml");
    static final Path TESTS = PROMETHEUS.resolve("tests");
    static final Path RUNBOOK = Manifests.ROOT.resolve("docs/alerts.md");

    private static final YAMLMapper YAML = new YAMLMapper();

    /** Alert name -> its rule, in file order. */
    static Map<String, JsonNode> alerts;
    /** Test file name -> its unit tests. */
    static Map<String, JsonNode> testFiles;

    @BeforeAll
    static void parse() throws IOException {
        alerts = new java.util.LinkedHashMap<>();
        for (JsonNode group : YAML.readTree(ALERTS.toFile()).get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                alerts.put(rule.get("alert").asText(), rule);
            }
        }
        testFiles = new TreeMap<>();
        try (Stream<Path> files = Files.list(TESTS)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yml")).toList()) {
                testFiles.put(file.getFileName().toString(), YAML.readTree(file.toFile()));
            }
        }
    }

    @Test
    void promtool_everyAlertFiresOnItsSeriesAndStaysQuietOnTheOthers() throws Exception {
        List<String> files = testFiles.keySet().stream().map(name -> "tests/" + name).toList();
        Promtool run = Promtool.run(PROMETHEUS, files);
        // The output is the evidence of every alert's cases; surefire keeps it in the test's report.
        System.out.println("promtool test rules " + String.join(" ", files) + "\n" + run.output());

        assertThat(run.exitCode()).as(run.output()).isZero();
        for (String file : files) {
            assertThat(run.output()).as(file).contains("Unit Testing:  " + file + "\n  SUCCESS\n");
        }
        assertThat(run.output()).doesNotContain("FAILED");
        // What passed, alert by alert: each case and the evaluation times at which it fired or stayed quiet.
        System.out.println(cases());
    }

    /** Every alert's cases: the case's name, then {@code fires at T} or {@code quiet at T} per evaluation. */
    static String cases() {
        StringBuilder text = new StringBuilder();
        for (String alert : alerts.keySet()) {
            String file = fileTesting(alert);
            text.append(alert).append(" (tests/").append(file).append(")\n");
            for (JsonNode test : testFiles.get(file).get("tests")) {
                List<String> checks = new ArrayList<>();
                for (JsonNode check : test.get("alert_rule_test")) {
                    if (alert.equals(check.get("alertname").asText())) {
                        checks.add((check.path("exp_alerts").isEmpty() ? "quiet at " : "fires at ") + check.get("eval_time").asText());
                    }
                }
                text.append("  ").append(test.get("name").asText()).append(": ").append(String.join(", ", checks)).append('\n');
            }
        }
        return text.toString();
    }

    @Test
    void everyAlert_hasCasesThatFireItAndCasesThatMustStayQuiet() {
        for (String alert : alerts.keySet()) {
            int firing = 0;
            int quiet = 0;
            for (JsonNode file : testFiles.values()) {
                for (JsonNode test : file.get("tests")) {
                    for (JsonNode check : test.get("alert_rule_test")) {
                        if (alert.equals(check.get("alertname").asText())) {
                            if (check.path("exp_alerts").isEmpty()) {
                                quiet++;
                            } else {
                                firing++;
                            }
                        }
                    }
                }
            }
            assertThat(firing).as("%s: evaluations where it must fire", alert).isPositive();
            assertThat(quiet).as("%s: evaluations where it must stay quiet", alert).isPositive();
        }
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(7);
    }

    /** Each alert's test file fails once the alert is gone: the cases are bound to the rule, not passing by themselves. */
    @Test
    void promtool_eachAlertsTestsFailWithoutIt(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("tests"));
        for (String alert : alerts.keySet()) {
            ObjectNode without = (ObjectNode) YAML.readTree(ALERTS.toFile());
            ArrayNode rules = (ArrayNode) without.get("groups").get(0).get("rules");
            for (int i = 0; i < rules.size(); i++) {
                if (alert.equals(rules.get(i).get("alert").asText())) {
                    rules.remove(i);
                }
            }
            YAML.writeValue(tmp.resolve("alerts.yml").toFile(), without);
            String file = fileTesting(alert);
            Files.copy(TESTS.resolve(file), tmp.resolve("tests").resolve(file), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

            Promtool run = Promtool.run(tmp, List.of("tests/" + file));

            assertThat(run.exitCode()).as("%s without %s: %s", file, alert, run.output()).isNotZero();
            assertThat(run.output()).as(alert).contains("FAILED", "alertname: " + alert);
        }
    }

    @Test
    void everyAlert_hasASummaryADescriptionAndARunbookSection() throws IOException {
        String runbook = Files.readString(RUNBOOK);
        for (Map.Entry<String, JsonNode> entry : alerts.entrySet()) {
            String alert = entry.getKey();
            JsonNode annotations = entry.getValue().get("annotations");
            assertThat(annotations.path("summary").asText()).as(alert).isNotBlank();
            assertThat(annotations.path("description").asText()).as("%s: a description naming the values", alert).contains("{{");
            assertThat(annotations.path("runbook_url").asText()).as(alert)
                    .isEqualTo("docs/alerts.md#" + alert.toLowerCase(Locale.ROOT));
            assertThat(entry.getValue().path("labels").path("severity").asText()).as(alert).isIn("critical", "warning");

            int start = runbook.indexOf("\n## " + alert + "\n");
            assertThat(start).as("docs/alerts.md section '## %s'", alert).isPositive();
            int end = runbook.indexOf("\n## ", start + 1);
            String section = runbook.substring(start, end < 0 ? runbook.length() : end);
            assertThat(section).as(alert).contains("**What it means.**", "**What to check.**", "**What to do.**");
        }
    }

    @Test
    void endpointDown_matchesEveryScrapeJobOfBothScrapeConfigurations() throws IOException {
        Matcher up = Pattern.compile("up\\{job=~\"([^\"]+)\"}").matcher(alerts.get("VqraeEndpointDown").get("expr").asText());
        assertThat(up.find()).isTrue();
        Pattern jobs = Pattern.compile(up.group(1));

        List<String> scrapeJobs = YAML.readTree(PROMETHEUS.resolve("prometheus.yml").toFile()).findValuesAsText("job_name");
        // The Prometheus Operator names a PodMonitor's scrape job <namespace>/<name>.
        PodMonitor podMonitor = Manifests.bind(Manifests.one("pod-monitor.yaml", "PodMonitor"), PodMonitor.class);
        String namespace = Manifests.documents("kustomization.yaml").get(0).get("namespace").asText();
        String podMonitorJob = namespace + "/" + podMonitor.getMetadata().getName();

        assertThat(scrapeJobs).isNotEmpty().allMatch(job -> jobs.matcher(job).matches());
        assertThat(jobs.matcher(podMonitorJob).matches()).as(podMonitorJob).isTrue();
        assertThat(jobs.matcher("node").matches()).isFalse();
    }

    /** Its text is generated from alerts.yml (K8sCopiesTest); here, that it binds as the Prometheus Operator reads it. */
    @Test
    void prometheusRule_bindsAlertsYmlsAlerts() {
        PrometheusRule bound = Manifests.bind(Manifests.one("prometheus-rule.yaml", "PrometheusRule"), PrometheusRule.class);
        assertThat(bound.getSpec().getGroups()).hasSize(1);
        assertThat(bound.getSpec().getGroups().get(0).getRules()).extracting(r -> r.getAlert()).containsExactlyElementsOf(alerts.keySet());
        assertThat(bound.getMetadata().getLabels()).isEqualTo(Manifests.bind(Manifests.one("pod-monitor.yaml", "PodMonitor"),
                PodMonitor.class).getMetadata().getLabels());
    }

    /** The one test file that tests {@code alert}. */
    private static String fileTesting(String alert) {
        List<String> files = testFiles.entrySet().stream()
                .filter(e -> e.getValue().findValuesAsText("alertname").contains(alert))
                .map(Map.Entry::getKey).toList();
        assertThat(files).as("test files of %s", alert).hasSize(1);
        return files.get(0);
    }

    /** One run of Debian's promtool ({@code bin/setup} installs it with the prometheus package). */
    record Promtool(int exitCode, String output) {
        static Promtool run(Path dir, List<String> testFiles) throws Exception {
            List<String> command = new ArrayList<>(List.of("promtool", "test", "rules"));
            command.addAll(testFiles);
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
            return new Promtool(process.exitValue(), output);
        }
    }
}
