package org.bufcached.daemon.net;

/**
 * Why a handshake ended with the connection closed, as counted in the
 * {@code bufcached_handshake_failures_total{reason}} metric. Each has a log line
 * with the details; the reason only groups them.
 */
public enum HandshakeFailure {
    /** Bad magic, truncated or malformed messages, options before client flags. */
    PROTOCOL_ERROR,
    UNKNOWN_CLIENT_FLAGS,
    /** No transmission phase within the handshake timeout. */
    TIMEOUT,
    /** NBD_OPT_EXPORT_NAME for a name that does not exist: no error reply exists, only a disconnect. */
    UNKNOWN_EXPORT,
    /** NBD_OPT_EXPORT_NAME for an export whose allow list excludes the client. */
    FORBIDDEN_EXPORT,
    /** Refused at accept: {@code limits.max-connections} connections were open. */
    TOO_MANY_CONNECTIONS,
    /** Refused at accept: {@code limits.max-handshaking} connections were in the handshake on the listener. */
    TOO_MANY_HANDSHAKES,
    /** Refused at accept: {@code limits.max-handshaking-per-address} handshakes from the client's address. */
    TOO_MANY_HANDSHAKES_FROM_ADDRESS,
    /** Option data announced beyond the hard limit: skipping it would be a denial of service. */
    OVERSIZED_OPTION,
    /** NBD_OPT_EXPORT_NAME for an export at {@code limits.max-connections-per-export}. */
    EXPORT_CONNECTION_LIMIT,
    /** NBD_OPT_EXPORT_NAME in the clear where TLS is required (by the daemon or by the export). */
    TLS_REQUIRED,
    /** The TLS handshake after NBD_OPT_STARTTLS failed, or bytes came between the option and the handshake. */
    TLS_HANDSHAKE,
    /** NBD_OPT_EXPORT_NAME by a TLS client whose identity the export's {@code identities} do not list. */
    FORBIDDEN_IDENTITY,
    IO_ERROR;

    /** The metric label: lower-case, as Prometheus label values usually are. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
