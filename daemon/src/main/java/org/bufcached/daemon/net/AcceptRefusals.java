package org.bufcached.daemon.net;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log lines of connections refused at accept, before any NBD message could
 * carry a reason. A flood is refused by the thousand: at most one line per second
 * for each reason, counting those not logged since, tells the operator as much
 * without flooding the log. Every refusal is counted in the
 * {@code bufcached_handshake_failures_total} metric all the same.
 *
 * <p>Thread safety: the event loops of all listeners refuse concurrently; the
 * monitor guards the three arrays, indexed by {@link HandshakeFailure#ordinal()}.
 * Logging happens outside it.
 */
final class AcceptRefusals {
    /** Under the name of the handshake's logger, where every other handshake failure is. */
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Connections connections;
    private final boolean[] everLogged = new boolean[HandshakeFailure.values().length];
    private final long[] lastLogged = new long[HandshakeFailure.values().length];
    private final int[] notLogged = new int[HandshakeFailure.values().length];

    AcceptRefusals(Connections connections) {
        this.connections = connections;
    }

    /** Counts a refusal for {@code reason} and logs it unless one was logged less than a second ago. */
    void refused(ConnectionContext connection, HandshakeFailure reason, String limit) {
        connections.handshakeFailed(reason);
        int i = reason.ordinal();
        int skipped;
        synchronized (this) {
            long now = System.nanoTime();
            if (everLogged[i] && now - lastLogged[i] < INTERVAL_NANOS) {
                notLogged[i]++;
                return;
            }
            everLogged[i] = true;
            lastLogged[i] = now;
            skipped = notLogged[i];
            notLogged[i] = 0;
        }
        String why = "limit of " + limit + " reached, connection closed";
        if (skipped == 0) {
            LOG.warn("{} {} {} {}", value("event", "handshake failure"), connection, keyValue("failure", reason.label()),
                    keyValue("reason", why));
        } else {
            LOG.warn("{} {} {} {} {}", value("event", "handshake failure"), connection,
                    keyValue("failure", reason.label()), keyValue("reason", why),
                    keyValue("not_logged_since_last_line", skipped));
        }
    }
}
