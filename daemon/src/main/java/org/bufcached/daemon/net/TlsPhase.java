package org.bufcached.daemon.net;

import java.util.Locale;

/**
 * Where a connection is with TLS, as counted in the
 * {@code bufcached_tls_connections{state}} metric.
 */
public enum TlsPhase {
    /** No STARTTLS (yet): everything in the clear. */
    PLAINTEXT,
    /** STARTTLS acknowledged, the TLS handshake under way. */
    HANDSHAKING,
    /** The TLS handshake succeeded: everything from now on is encrypted. */
    ENCRYPTED;

    /** The metric label. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
