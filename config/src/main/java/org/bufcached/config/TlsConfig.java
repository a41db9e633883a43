package org.bufcached.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * TLS for NBD's STARTTLS, with nbdkit's options: the mode, and either a
 * directory of X.509 certificates in the layout nbdkit, qemu and libnbd use
 * ({@code ca-cert.pem}, {@code server-cert.pem}, {@code server-key.pem},
 * optional {@code ca-crl.pem}) or a PSK file of {@code username:hexkey} lines.
 * As with nbdkit, it is one or the other.
 *
 * @param mode         off, on (TLS offered, plaintext served) or require
 * @param certificates directory of the X.509 files; empty with PSK or without TLS
 * @param verifyPeer   X.509 clients must present a certificate signed by {@code ca-cert.pem}
 * @param pskFile      file of PSK keys; empty with X.509 or without TLS
 * @param provider     the implementation of X.509 TLS
 */
public record TlsConfig(TlsMode mode, Optional<Path> certificates, boolean verifyPeer, Optional<Path> pskFile,
                        TlsProvider provider) {
    public static final TlsConfig OFF = new TlsConfig(TlsMode.OFF, Optional.empty(), false, Optional.empty(),
            TlsProvider.AUTO);

    /** Something wrong with the settings: the YAML key (under {@code tls}, or of an export) and a message. */
    public record Problem(String key, String message) {
    }

    /** Whether STARTTLS is answered with NBD_REP_ACK at all. */
    public boolean enabled() {
        return mode != TlsMode.OFF;
    }

    /** Whether clients prove themselves with a pre-shared key rather than (optionally) a certificate. */
    public boolean psk() {
        return pskFile.isPresent();
    }

    /** What does not fit together; the files are checked by {@link #certificatesProblem} and {@link #pskFileProblem}. */
    public List<Problem> problems() {
        List<Problem> problems = new ArrayList<>();
        if (certificates.isPresent() && pskFile.isPresent()) {
            problems.add(new Problem("psk-file", "give either certificates or psk-file, not both (as with nbdkit)"));
        }
        if (enabled() && certificates.isEmpty() && pskFile.isEmpty()) {
            problems.add(new Problem("mode", "TLS mode " + mode.yamlName()
                    + " needs certificates (a directory) or psk-file"));
        }
        if (verifyPeer && certificates.isEmpty()) {
            problems.add(new Problem("verify-peer", "verify-peer checks client certificates: it needs certificates"
                    + (pskFile.isPresent() ? " (PSK clients are always verified by their key)" : "")));
        }
        return problems;
    }

    /** Why {@code dir} cannot be a certificate directory, if it cannot; its files are read when TLS starts. */
    public static Optional<String> certificatesProblem(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.of(dir + " is not a directory");
        }
        if (!Files.isReadable(dir) || !Files.isExecutable(dir)) {
            return Optional.of(dir + " cannot be read");
        }
        return Optional.empty();
    }

    /**
     * Why {@code file} cannot be a PSK file, if it cannot: it must be a readable
     * file that other users cannot read, since its keys are the clients' passwords.
     */
    public static Optional<String> pskFileProblem(Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            return Optional.of(file + " is not a readable file");
        }
        try {
            if (Files.getPosixFilePermissions(file).contains(PosixFilePermission.OTHERS_READ)) {
                return Optional.of(file + " is readable by other users; its keys are secrets: chmod o-r " + file);
            }
        } catch (UnsupportedOperationException | IOException e) {
            return Optional.of("cannot read the permissions of " + file + ": " + e.getMessage());
        }
        return Optional.empty();
    }
}
