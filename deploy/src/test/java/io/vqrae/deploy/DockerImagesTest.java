package io.vqrae.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.vqrae.models.onnx.ExecutionProvider;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.w3c.dom.Document;

/**
 * deploy/docker (which cannot be built here): each image's pinned bases and versions are the build's, it copies
 * the jars the build produces under the names the build gives them, and it puts the job jar where the
 * FlinkDeployment's jarURI points.
 */
class DockerImagesTest {
    static final String VERSION = System.getProperty("vqrae.version");
    static final String FLINK_LIB = "/opt/flink/lib/";

    /** The two images: their Dockerfile, ONNX Runtime artifact (the parent pom's default and its -Pgpu profile) and build folder. */
    enum Image {
        CPU("Dockerfile.cpu", "onnxruntime", "target"),
        GPU("Dockerfile.gpu", "onnxruntime_gpu", "target-gpu"); // bin/vqrae's folder for VQRAE_ORT=gpu

        final String file;
        final String onnxRuntimeArtifact;
        final String buildFolder;

        Image(String file, String onnxRuntimeArtifact, String buildFolder) {
            this.file = file;
            this.onnxRuntimeArtifact = onnxRuntimeArtifact;
            this.buildFolder = buildFolder;
        }

        Dockerfile read() {
            return Dockerfile.read(Manifests.DEPLOY.resolve("docker").resolve(file));
        }
    }

    /**
     * The very Flink release the job is compiled and tested against, not only its minor: Flink's classes load
     * parent-first from the image's lib/, so a patch release in the image is code the tests never ran.
     * {@code flink:2.2.1-scala_2.12-java17} is an official tag (apache/flink-docker, 2.2/scala_2.12-java17-ubuntu,
     * release.metadata).
     */
    @ParameterizedTest
    @EnumSource(Image.class)
    void flinkBase_isTheJobsFlinkReleaseAndJava(Image image) {
        String flink = image.read().baseImages().get(0);
        String java = System.getProperty("vqrae.java.release");
        assertThat(flink).isEqualTo("flink:" + System.getProperty("vqrae.flink.version") + "-scala_2.12-java" + java);
    }

    @Test
    void gpuBase_isCuda12WithCudnn_andTakesJavaAndFlinkFromTheFlinkImage() {
        Dockerfile gpu = Image.GPU.read();
        assertThat(gpu.baseImages()).hasSize(2);
        // onnxruntime_gpu 1.2x: CUDA 12.x and cuDNN 9.x.
        assertThat(gpu.baseImages().get(1)).matches("nvidia/cuda:12\\.\\d+\\.\\d+-cudnn-runtime-ubuntu\\d+\\.\\d+");
        assertThat(gpu.copies()).filteredOn(c -> c.from() != null).extracting(c -> c.sources().get(0))
                .contains("/opt/java/openjdk", "/opt/flink");
    }

    /** The exactly-once file sinks of tokenize-corpus need S3's recoverable writer, which only the Hadoop plugin has. */
    @ParameterizedTest
    @EnumSource(Image.class)
    void s3Plugin_isFlinksHadoopOne_inPlugins(Image image) throws IOException {
        String dockerfile = Files.readString(Manifests.DEPLOY.resolve("docker").resolve(image.file));
        assertThat(dockerfile).contains("mv /opt/flink/opt/flink-s3-fs-hadoop-*.jar /opt/flink/plugins/s3-fs-hadoop/")
                .doesNotContain("s3-fs-presto");
    }

    @ParameterizedTest
    @EnumSource(Image.class)
    void versions_areThePoms(Image image) {
        Map<String, String> args = image.read().args();
        assertThat(args).containsEntry("VQRAE_VERSION", VERSION)
                .containsEntry("ONNXRUNTIME_VERSION", System.getProperty("vqrae.onnxruntime.version"))
                .containsEntry("JNA_VERSION", System.getProperty("vqrae.jna.version"))
                .containsEntry("TARGET", image.buildFolder);
    }

    @ParameterizedTest
    @EnumSource(Image.class)
    void flinkLib_getsOnnxRuntimeAndJna_fromTheDeployModulesCopy(Image image) {
        Dockerfile docker = image.read();
        String copied = "deploy/" + image.buildFolder + "/flink-lib/";
        List<String> jars = List.of(
                image.onnxRuntimeArtifact + "-" + System.getProperty("vqrae.onnxruntime.version") + ".jar",
                "jna-" + System.getProperty("vqrae.jna.version") + ".jar");
        assertThat(docker.contextCopies()).filteredOn(c -> c.destination().equals(FLINK_LIB))
                .flatExtracting(Dockerfile.Copy::sources)
                .containsExactlyInAnyOrderElementsOf(jars.stream().map(j -> copied + j).toList());
    }

    @Test
    void flinkLibJarNames_areWhatThisBuildResolves() {
        // copy-dependencies writes each runtime jar under its repository file name: the ones on this classpath.
        Set<String> classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(p -> Path.of(p).getFileName().toString()).collect(Collectors.toSet());
        String artifact = System.getProperty("vqrae.onnxruntime.artifact");
        Image built = Arrays.stream(Image.values()).filter(i -> i.onnxRuntimeArtifact.equals(artifact)).findFirst().orElseThrow();
        assertThat(built.read().contextCopies()).filteredOn(c -> c.destination().equals(FLINK_LIB))
                .flatExtracting(Dockerfile.Copy::sources)
                .extracting(s -> s.substring(s.lastIndexOf('/') + 1))
                .allMatch(classpath::contains, "on the test classpath");
    }

    @ParameterizedTest
    @EnumSource(Image.class)
    void jobJar_isThePipelinesShadedJar_atTheDeploymentsJarUri(Image image) throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Manifests.ROOT.resolve("pipeline/pom.xml").toFile());
        String classifier = pom.getElementsByTagName("shadedClassifierName").item(0).getTextContent().strip();
        String jar = "pipeline/" + image.buildFolder + "/vqrae-pipeline-" + VERSION + "-" + classifier + ".jar";
        String jarPath = URI.create(deployment().getSpec().getJob().getJarURI()).getPath();
        assertThat(image.read().contextCopies()).filteredOn(c -> c.sources().contains(jar))
                .singleElement().satisfies(c -> assertThat(c.target(jar)).isEqualTo(jarPath));
    }

    @Test
    void deploymentImage_isTheGpuImage_whenTheJobRunsOnCuda(@TempDir Path tmp) {
        ConfigMap jobConfig = Manifests.bind(Manifests.one("job-config.yaml", "ConfigMap"), ConfigMap.class);
        boolean cuda = Manifests.jobConfig(jobConfig, "job.yaml", tmp).model().provider() == ExecutionProvider.CUDA;
        String image = deployment().getSpec().getImage();
        assertThat(image).endsWith(":" + VERSION + (cuda ? "-gpu" : "-cpu"));
    }

    private static FlinkDeployment deployment() {
        return Manifests.flinkDeployment().resource();
    }
}
