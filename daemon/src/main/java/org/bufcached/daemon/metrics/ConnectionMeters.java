package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.net.HandshakeFailure;
import org.bufcached.daemon.net.TlsHandshakeResult;
import org.bufcached.daemon.net.TlsPhase;

/**
 * Connection meters read from {@link Connections} at scrape time, so the
 * connection paths only bump the counters they keep anyway.
 */
public final class ConnectionMeters {
    private ConnectionMeters() {
    }

    public static void bind(MeterRegistry registry, Connections connections) {
        Gauge.builder("bufcached.connections.open", connections, Connections::open)
                .description("NBD connections open now, in the handshake or transmission phase")
                .register(registry);
        FunctionCounter.builder("bufcached.connections", connections, Connections::openedTotal)
                .description("NBD connections accepted since start")
                .register(registry);
        Gauge.builder("bufcached.requests.in.flight", connections, Connections::inFlight)
                .description("NBD requests received and not yet answered")
                .register(registry);
        FunctionCounter.builder("bufcached.requests.stuck", connections, Connections::stuckTotal)
                .description("Requests in flight longer than limits.stuck-request, since start")
                .register(registry);
        Gauge.builder("bufcached.requests.stuck.now", connections, Connections::stuckNow)
                .description("Requests in flight longer than limits.stuck-request now")
                .register(registry);
        for (HandshakeFailure reason : HandshakeFailure.values()) {
            FunctionCounter.builder("bufcached.handshake.failures", connections, c -> c.handshakeFailures(reason))
                    .description("Handshakes that ended with the connection closed, by reason")
                    .tag("reason", reason.label())
                    .register(registry);
        }
        for (TlsHandshakeResult result : TlsHandshakeResult.values()) {
            FunctionCounter.builder("bufcached.tls.handshakes", connections, c -> c.tlsHandshakes(result))
                    .description("TLS handshakes after NBD_OPT_STARTTLS, by how they ended")
                    .tag("result", result.label())
                    .register(registry);
        }
        for (TlsPhase phase : TlsPhase.values()) {
            Gauge.builder("bufcached.tls.connections", connections, c -> c.inTlsPhase(phase))
                    .description("NBD connections open now, by TLS state: plaintext, handshaking, encrypted")
                    .tag("state", phase.label())
                    .register(registry);
        }
    }
}
