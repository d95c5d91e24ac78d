package io.vqrae.pipeline.storage;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real S3 server for tests: s3proxy ({@code org.gaul:s3proxy}, the S3 API over a local folder) on a loopback
 * port chosen by the system, in a JVM of its own from its {@code jar-with-dependencies} (copied by this module's
 * build; its jclouds, Jetty and Guava never meet Flink's and Kafka's on the test class path). SigV2/SigV4 with
 * a random key pair; every request it serves is in its log, which {@link #requests()} reads.
 */
final class S3Server implements AutoCloseable {
    private static final Pattern STARTED = Pattern.compile("Started ServerConnector@\\S+\\{HTTP/1\\.1, \\(http/1\\.1\\)}\\{127\\.0\\.0\\.1:(\\d+)}");
    /** s3proxy's debug line for each request: {@code request: Request(GET http://127.0.0.1:1234/bucket/key?query)@hash}. */
    private static final Pattern REQUEST = Pattern.compile("request: Request\\((\\w+) http://[^/]+/([^?)]*)(?:\\?([^)]*))?\\)");

    private final Process process;
    private final Path log;
    private final String endpoint;
    private final String accessKey;
    private final String secretKey;

    private S3Server(Process process, Path log, String endpoint, String accessKey, String secretKey) {
        this.process = process;
        this.log = log;
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /** Starts a server over {@code dir} with {@code buckets} (created empty; a bucket of s3proxy's filesystem store is a folder). */
    static S3Server start(Path dir, String... buckets) throws IOException, InterruptedException {
        Path data = Files.createDirectories(dir.resolve("data"));
        for (String bucket : buckets) {
            Files.createDirectories(data.resolve(bucket));
        }
        SecureRandom random = new SecureRandom();
        String accessKey = "vqrae-test-" + HexFormat.of().formatHex(random.generateSeed(4));
        String secretKey = HexFormat.of().formatHex(random.generateSeed(20));
        Path properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:0",
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + accessKey,
                "s3proxy.credential=" + secretKey,
                "jclouds.provider=filesystem-nio2",
                "jclouds.identity=local",
                "jclouds.credential=local",
                "jclouds.filesystem.basedir=" + data, ""));
        Path log = dir.resolve("s3proxy.log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", System.getProperty("vqrae.s3proxy.jar"), "--properties", properties.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        // Debug logs one line per request, which is how requests are counted.
        builder.environment().put("LOG_LEVEL", "debug");
        Process process = builder.start();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher started = STARTED.matcher(Files.readString(log));
            if (started.find()) {
                return new S3Server(process, log, "http://127.0.0.1:" + started.group(1), accessKey, secretKey);
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("s3proxy exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            Thread.sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException("s3proxy did not start in 2 minutes: " + log);
    }

    String endpoint() {
        return endpoint;
    }

    String secretKey() {
        return secretKey;
    }

    /** Flink's s3.* settings that reach this server, as {@code --set} arguments. */
    List<String> settings() {
        List<String> args = new ArrayList<>();
        settingsMap().forEach((key, value) -> args.addAll(List.of("--set", key + "=" + value)));
        return args;
    }

    /** Flink's s3.* settings that reach this server, by key. */
    Map<String, String> settingsMap() {
        Map<String, String> settings = new TreeMap<>();
        settings.put("s3.endpoint", endpoint);
        settings.put("s3.path.style.access", "true");
        settings.put("s3.access-key", accessKey);
        settings.put("s3.secret-key", secretKey);
        // S3A would otherwise delete the parent "folder" markers after each write, which s3proxy's filesystem store
        // refuses (its folders are real); keeping them is also one request less per object written.
        settings.put("s3.directory.marker.retention", "keep");
        return settings;
    }

    /** Every request served so far, in order. */
    List<Request> requests() throws IOException {
        List<Request> requests = new ArrayList<>();
        Matcher matcher = REQUEST.matcher(Files.readString(log));
        while (matcher.find()) {
            requests.add(new Request(matcher.group(1), matcher.group(2), matcher.group(3) == null ? "" : matcher.group(3)));
        }
        return requests;
    }

    /**
     * One request.
     *
     * @param method the HTTP method
     * @param path bucket and key, URL-encoded ({@code corpus/shards/00001.tar})
     * @param query the query string, empty when none
     */
    record Request(String method, String path, String query) {
        String bucket() {
            int slash = path.indexOf('/');
            return slash < 0 ? path : path.substring(0, slash);
        }

        /** The key it is about: the object's, or a LIST's prefix. */
        String key() {
            if (kind().equals("LIST")) {
                for (String parameter : query.split("&")) {
                    if (parameter.startsWith("prefix=")) {
                        return URLDecoder.decode(parameter.substring("prefix=".length()), StandardCharsets.UTF_8);
                    }
                }
                return "";
            }
            int slash = path.indexOf('/');
            return slash < 0 ? "" : URLDecoder.decode(path.substring(slash + 1), StandardCharsets.UTF_8);
        }

        /** What S3 calls it: GET with list-type is a LIST, with uploads/uploadId part of a multipart upload. */
        String kind() {
            if (method.equals("GET") && (query.contains("list-type") || query.contains("delimiter") || query.contains("prefix="))) {
                return "LIST";
            }
            if (query.contains("uploadId")) {
                return method.equals("PUT") ? "UPLOAD_PART" : method.equals("POST") ? "COMPLETE_MULTIPART" : method + "_MULTIPART";
            }
            if (query.contains("uploads")) {
                return "INITIATE_MULTIPART";
            }
            return method;
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
