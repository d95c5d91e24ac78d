package io.vqrae.pipeline.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.plugin.PluginUtils;

/**
 * The object stores of a local run ({@code bin/vqrae}'s commands, whose jobs run on a MiniCluster in this JVM):
 * Flink's filesystem plugins loaded the way a Flink process loads them, from {@code FLINK_PLUGINS_DIR}
 * ({@code bin/vqrae} points it at the build's {@code plugins/}, which holds {@code flink-s3-fs-hadoop}), each in
 * its own class loader, and configured with the job config's {@code s3.*} keys. A cluster's JobManager and
 * TaskManagers do the same from the cluster's Flink configuration when they start.
 */
public final class ObjectStores {
    /** The schemes Flink's S3 plugins serve. */
    private static final Set<String> S3_SCHEMES = Set.of("s3", "s3a", "s3p");

    /** The AWS SDK's retries of a request unless s3.attempts.maximum says otherwise (see {@link #initializeLocal}). */
    static final int SDK_RETRIES = 2;

    /** The settings this JVM's filesystems were last set up with; null before the first time. */
    private static S3Settings applied;

    private ObjectStores() {}

    /**
     * Sets up this JVM's filesystems for a local run with {@code s3}; again only when the settings changed (it
     * drops Flink's cache of open filesystems).
     */
    public static synchronized void initializeLocal(S3Settings s3) {
        if (s3.equals(applied)) {
            return;
        }
        Configuration flink = new Configuration();
        // The AWS SDK's own retries, under S3A's (which retry throttling and transient failures themselves): its
        // default 20 take a wrong secret key (403 SignatureDoesNotMatch, retried as possible clock skew) minutes
        // to report, with back-off up to 20 s. Hadoop 3.4 lowered the default for the same reason.
        flink.setString("s3.attempts.maximum", String.valueOf(SDK_RETRIES));
        s3.settings().forEach((key, value) -> flink.setString("s3." + key, value));
        FileSystem.initialize(flink, PluginUtils.createPluginManagerFromRootFolder(flink));
        applied = s3;
    }

    /**
     * Checks that every bucket among {@code uris} (paths on other filesystems are skipped) can be listed with
     * these credentials: one request per bucket, so wrong credentials or a missing bucket fail before a job
     * starts, in one line.
     *
     * @throws ObjectStoreException naming the bucket and the endpoint
     */
    public static void requireBuckets(Collection<String> uris, S3Settings s3) throws IOException {
        Set<URI> buckets = new LinkedHashSet<>();
        for (String uri : uris) {
            URI parsed = new Path(uri).toUri();
            if (parsed.getScheme() != null && S3_SCHEMES.contains(parsed.getScheme().toLowerCase(Locale.ROOT)) && parsed.getAuthority() != null) {
                buckets.add(URI.create(parsed.getScheme() + "://" + parsed.getAuthority() + "/"));
            }
        }
        for (URI bucket : buckets) {
            Path root = new Path(bucket);
            try {
                root.getFileSystem().listStatus(root);
            } catch (AccessDeniedException e) {
                // S3A's translation of HTTP 403: the request was refused, which is the credentials' doing.
                throw new ObjectStoreException("S3 bucket '" + bucket.getAuthority() + "' at " + s3.endpoint()
                        + ": access denied; check the credentials (s3.access-key and s3.secret-key, or AWS_ACCESS_KEY_ID and"
                        + " AWS_SECRET_ACCESS_KEY)", e);
            } catch (IOException e) {
                // S3A's translation of NoSuchBucket, UnknownStoreException, lives in the plugin's class loader (and is a
                // PathIOException in Hadoop 3.3, a FileNotFoundException in 3.4): known by its name.
                if (!e.getClass().getSimpleName().equals("UnknownStoreException")) {
                    throw e;
                }
                throw new ObjectStoreException("S3 bucket '" + bucket.getAuthority() + "' does not exist at " + s3.endpoint(), e);
            }
        }
    }
}
