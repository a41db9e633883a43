package org.bufcached.client.cli;

import java.nio.file.Path;
import org.bufcached.client.NbdUri;
import org.bufcached.client.TlsOptions;
import picocli.CommandLine.Option;

/**
 * The TLS options every subcommand takes, twins of libnbd's URI parameters.
 * They fill in or override what the URI says, and any of them makes the
 * connection use TLS, as if the URI were {@code nbds://}.
 */
final class TlsMixin {
    @Option(names = "--tls", description = "use TLS (as nbds:// or nbds+unix:// would)")
    boolean tls;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "ca-cert.pem to verify the server; client-cert.pem and client-key.pem to present (URI: tls-certificates=)")
    Path certificates;

    @Option(names = "--tls-psk-file", paramLabel = "FILE",
            description = "PSK file of username:hexkey lines (URI: tls-psk-file=)")
    Path pskFile;

    @Option(names = "--tls-username", paramLabel = "NAME",
            description = "PSK username (URI: the user part; default: the login name)")
    String username;

    @Option(names = "--tls-verify-peer", paramLabel = "true|false", arity = "1",
            description = "check the server's certificate and name (URI: tls-verify-peer=; default true)")
    Boolean verifyPeer;

    /** {@code uri} with these options applied. */
    NbdUri apply(NbdUri uri) {
        if (!tls && certificates == null && pskFile == null && username == null && verifyPeer == null) {
            return uri;
        }
        TlsOptions options = uri.tls().orElse(TlsOptions.DEFAULT);
        if (certificates != null) {
            options = options.withCertificates(certificates);
        }
        if (pskFile != null) {
            options = options.withPskFile(pskFile);
        }
        if (username != null) {
            options = options.withUsername(username);
        }
        if (verifyPeer != null) {
            options = options.withVerifyPeer(verifyPeer);
        }
        return uri.withTls(options);
    }
}
