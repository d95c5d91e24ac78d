package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The manifests of deploy/k8s that carry another file of deploy/ (the alerts, the dashboard) are exactly what
 * bin/generate-k8s-copies writes from it: a change to the source alone, or a hand edit of the copy, fails here.
 */
class K8sCopiesTest {

    @ParameterizedTest
    @ValueSource(strings = {"prometheus-rule.yaml", "grafana-dashboard.yaml"})
    void isExactlyWhatTheGeneratorWritesFromItsSource(String manifest) throws Exception {
        Process generator = new ProcessBuilder(Manifests.ROOT.resolve("bin/generate-k8s-copies").toString(), "--print", manifest)
                .redirectError(Redirect.INHERIT).start();
        String generated = new String(generator.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(generator.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(generator.exitValue()).isZero();

        assertThat(Files.readString(Manifests.K8S.resolve(manifest)))
                .as("deploy/k8s/%s is not what bin/generate-k8s-copies makes of its source; run it", manifest)
                .isEqualTo(generated);
    }
}
