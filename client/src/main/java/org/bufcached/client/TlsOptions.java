package org.bufcached.client;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS for one connection, as libnbd's {@code nbds://} URIs say it: a directory
 * of X.509 files ({@code tls-certificates}: {@code ca-cert.pem}, and for a client
 * certificate {@code client-cert.pem} and {@code client-key.pem}), or a PSK file
 * ({@code tls-psk-file}) with the key of {@code username} (the URI's user part,
 * else the login name), and whether to verify the server ({@code tls-verify-peer}).
 *
 * <p>Without a certificate directory or PSK file, the server is verified against
 * the JDK's trusted authorities, as libnbd falls back to the system's.
 */
public record TlsOptions(Optional<Path> certificates, Optional<Path> pskFile, Optional<String> username,
                         boolean verifyPeer) {
    /** TLS with everything at libnbd's defaults. */
    public static final TlsOptions DEFAULT = new TlsOptions(Optional.empty(), Optional.empty(), Optional.empty(), true);

    /** The PSK username: the one given, else the login name, as libnbd does. */
    public String pskUsername() {
        return username.orElseGet(() -> System.getProperty("user.name"));
    }

    public TlsOptions withCertificates(Path dir) {
        return new TlsOptions(Optional.of(dir), pskFile, username, verifyPeer);
    }

    public TlsOptions withPskFile(Path file) {
        return new TlsOptions(certificates, Optional.of(file), username, verifyPeer);
    }

    public TlsOptions withUsername(String name) {
        return new TlsOptions(certificates, pskFile, Optional.of(name), verifyPeer);
    }

    public TlsOptions withVerifyPeer(boolean verify) {
        return new TlsOptions(certificates, pskFile, username, verify);
    }
}
