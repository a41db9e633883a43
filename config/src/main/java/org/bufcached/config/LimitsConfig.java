package org.bufcached.config;

import java.time.Duration;

/**
 * Bounds that keep misbehaving or abandoned clients from exhausting the daemon.
 *
 * @param maxConnections          connections accepted in total
 * @param maxConnectionsPerExport connections to one export
 * @param handshakeTimeout        time a client has to finish the handshake
 * @param idleTimeout             time a connection may stay without a request; zero means never closed
 * @param stuckRequest            a request in flight longer than this is logged and counted as stuck;
 *                                zero turns the report off
 * @param shutdownTimeout         how long a stop (or an export's removal) lets the requests in flight
 *                                finish before it closes their connections
 */
public record LimitsConfig(int maxConnections, int maxConnectionsPerExport, Duration handshakeTimeout,
                           Duration idleTimeout, Duration stuckRequest, Duration shutdownTimeout) {

    /** The connection limits and timeouts, with the defaults for the rest. */
    public LimitsConfig(int maxConnections, int maxConnectionsPerExport, Duration handshakeTimeout,
                        Duration idleTimeout) {
        this(maxConnections, maxConnectionsPerExport, handshakeTimeout, idleTimeout,
                LimitsSection.DEFAULTS.stuckRequest(), LimitsSection.DEFAULTS.shutdownTimeout());
    }
}
