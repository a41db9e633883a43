package org.bufcached.config;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * Bounds that keep misbehaving or abandoned clients from exhausting the daemon.
 *
 * @param maxConnections            connections accepted in total, in the handshake or in transmission
 * @param maxConnectionsPerExport   connections to one export
 * @param maxHandshaking            connections in the handshake at once on one listener
 * @param maxHandshakingPerAddress  connections in the handshake at once from one TCP client address, per listener
 * @param handshakeTimeout          time a client has to finish the handshake
 * @param idleTimeout               time a connection may stay without a request; zero means never closed
 * @param stuckRequest              a request in flight longer than this is logged and counted as stuck;
 *                                  zero turns the report off
 * @param shutdownTimeout           how long a stop (or an export's removal) lets the requests in flight
 *                                  finish before it closes their connections
 * @param payloadMemory             bytes of WRITE payloads held at once over all connections; empty: half the
 *                                  JVM's direct memory limit
 * @param payloadTimeout            while connections wait for payload memory, a WRITE payload that gets no byte
 *                                  for this long closes its connection
 */
public record LimitsConfig(int maxConnections, int maxConnectionsPerExport, int maxHandshaking,
                           int maxHandshakingPerAddress, Duration handshakeTimeout, Duration idleTimeout,
                           Duration stuckRequest, Duration shutdownTimeout, OptionalLong payloadMemory,
                           Duration payloadTimeout) {

    /** The connection limits and timeouts, with the defaults for the rest. */
    public LimitsConfig(int maxConnections, int maxConnectionsPerExport, Duration handshakeTimeout,
                        Duration idleTimeout) {
        this(maxConnections, maxConnectionsPerExport, LimitsSection.DEFAULTS.maxHandshaking(),
                LimitsSection.DEFAULTS.maxHandshakingPerAddress(), handshakeTimeout, idleTimeout,
                LimitsSection.DEFAULTS.stuckRequest(), LimitsSection.DEFAULTS.shutdownTimeout(),
                LimitsSection.DEFAULTS.payloadMemory(), LimitsSection.DEFAULTS.payloadTimeout());
    }
}
