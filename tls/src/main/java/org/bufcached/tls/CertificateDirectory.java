package org.bufcached.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A directory of X.509 files in the layout nbdkit, qemu and libnbd share, so one
 * directory made for them serves bufcached too: {@code ca-cert.pem}, the
 * server's {@code server-cert.pem} and {@code server-key.pem}, a client's
 * {@code client-cert.pem} and {@code client-key.pem}, and an optional
 * certificate revocation list {@code ca-crl.pem}.
 */
public record CertificateDirectory(Path dir) {
    public Path caCert() {
        return dir.resolve("ca-cert.pem");
    }

    public Path serverCert() {
        return dir.resolve("server-cert.pem");
    }

    public Path serverKey() {
        return dir.resolve("server-key.pem");
    }

    public Path clientCert() {
        return dir.resolve("client-cert.pem");
    }

    public Path clientKey() {
        return dir.resolve("client-key.pem");
    }

    /** {@code ca-crl.pem}, if the directory has one. */
    public Optional<Path> caCrl() {
        return present(dir.resolve("ca-crl.pem"));
    }

    private static Optional<Path> present(Path file) {
        return Files.exists(file) ? Optional.of(file) : Optional.empty();
    }

    /** Fails with a message naming {@code file} unless it is a readable file. */
    public static Path require(Path file) throws IOException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IOException(file + " is missing or not readable");
        }
        return file;
    }
}
