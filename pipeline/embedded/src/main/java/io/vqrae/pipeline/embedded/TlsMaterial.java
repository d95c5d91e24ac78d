package io.vqrae.pipeline.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The embedded node's TLS identity: a key pair and self-signed certificate for 127.0.0.1 in a PKCS12
 * keystore, and a truststore holding only that certificate for its clients. Both are password protected
 * with fresh random passwords, as a deployment's would be, so a test can check that no password leaks.
 */
record TlsMaterial(Path keystore, String keystorePassword, Path truststore, String truststorePassword) {
    private static final String ALIAS = "vqrae-embedded-kafka";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Generates the key pair with the JDK's {@code keytool} (the JDK has no public API that signs a
     * certificate, and this project does not ship a crypto library for a test broker) and writes the
     * truststore in this JVM.
     */
    static TlsMaterial generate(Path dir) throws IOException, InterruptedException {
        Path keystore = dir.resolve("broker.p12");
        Path truststore = dir.resolve("clients-truststore.p12");
        String keystorePassword = randomSecret();
        String truststorePassword = randomSecret();
        Path log = dir.resolve("keytool.log");
        // The password goes through the environment, not the command line other processes can read.
        ProcessBuilder keytool = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass:env", "VQRAE_KEYSTORE_PASSWORD", "-keypass:env", "VQRAE_KEYSTORE_PASSWORD"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        keytool.environment().put("VQRAE_KEYSTORE_PASSWORD", keystorePassword);
        Process process = keytool.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("keytool did not finish within 60 s generating " + keystore);
        }
        if (process.exitValue() != 0) {
            throw new IOException("keytool failed (exit " + process.exitValue() + ") generating " + keystore + ": "
                    + Files.readString(log, StandardCharsets.UTF_8).strip());
        }
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                keys.load(in, keystorePassword.toCharArray());
            }
            Certificate certificate = keys.getCertificate(ALIAS);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry(ALIAS, certificate);
            try (OutputStream out = Files.newOutputStream(truststore)) {
                trust.store(out, truststorePassword.toCharArray());
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("Could not write the truststore " + truststore, e);
        }
        return new TlsMaterial(keystore, keystorePassword, truststore, truststorePassword);
    }

    /** 128 random bits in hex: what the node's generated passwords are made of. */
    static String randomSecret() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    Map<String, String> brokerProperties() {
        return Map.of(
                "ssl.keystore.type", "PKCS12",
                "ssl.keystore.location", keystore.toString(),
                "ssl.keystore.password", keystorePassword,
                "ssl.key.password", keystorePassword);
    }

    Map<String, String> clientProperties() {
        return Map.of(
                "ssl.truststore.type", "PKCS12",
                "ssl.truststore.location", truststore.toString(),
                "ssl.truststore.password", truststorePassword);
    }

    /** The passwords stay out of anything that prints this record. */
    @Override
    public String toString() {
        return "TlsMaterial[keystore=" + keystore + ", truststore=" + truststore + "]";
    }
}
