package org.bufcached.daemon.net;

import java.util.Locale;

/** How a TLS handshake ended, as counted in the {@code bufcached_tls_handshakes_total{result}} metric. */
public enum TlsHandshakeResult {
    SUCCESS,
    /** Refused by either side: bad certificate, unknown PSK username, wrong key, garbage, a closed connection. */
    FAILURE,
    /** Not finished when the handshake timeout closed the connection. */
    TIMEOUT;

    /** The metric label. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
