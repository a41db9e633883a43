package org.bufcached.daemon.net;

/**
 * One open connection as the admin socket lists it.
 *
 * @param export   the export, or null while in the handshake
 * @param identity the TLS identity ({@code CN=...}, {@code psk:NAME}), or null without TLS
 * @param ageMillis time since it was accepted
 */
public record ConnectionInfo(long id, String peer, String export, String identity, long bytesIn, long bytesOut,
                             long requests, long errors, long ageMillis) {
}
