package org.bufcached.config;

import java.time.Duration;

/**
 * Bounds that keep misbehaving or abandoned clients from exhausting the daemon.
 *
 * @param maxConnections          connections accepted in total
 * @param maxConnectionsPerExport connections to one export
 * @param handshakeTimeout        time a client has to finish the handshake
 * @param idleTimeout             time a connection may stay without a request; zero means never closed
 */
public record LimitsConfig(int maxConnections, int maxConnectionsPerExport, Duration handshakeTimeout,
                           Duration idleTimeout) {
}
