package org.bufcached.daemon.net;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The connections in the handshake on one listener. A connection is admitted at
 * accept only while fewer than {@code limits.max-handshaking} are in the handshake
 * on the listener and, for TCP, fewer than {@code limits.max-handshaking-per-address}
 * come from the client's address; it leaves when it enters transmission or
 * closes. So sockets that never finish their handshake hold a few slots of one
 * listener until the handshake timeout, not the whole {@code max-connections}:
 * established clients, clients of other listeners (the Unix socket) and clients
 * from other addresses are still served.
 *
 * <p>Thread safety: the event loops of the listener's connections enter and leave
 * concurrently; the monitor guards {@link #handshaking} and {@link #byAddress}.
 * Entering is once per accepted connection, never per request.
 */
final class HandshakeGate {
    private final HandshakeLimits limits;
    /** Guarded by the monitor. */
    private int handshaking;
    /** Handshakes per TCP client address; guarded by the monitor. */
    private final Map<InetAddress, Integer> byAddress = new HashMap<>();

    HandshakeGate(HandshakeLimits limits) {
        this.limits = limits;
    }

    /**
     * Admits a connection from {@code address} (null for a Unix socket) into the
     * handshake, or returns why not.
     */
    synchronized HandshakeFailure enter(InetAddress address) {
        if (handshaking >= limits.perListener()) {
            return HandshakeFailure.TOO_MANY_HANDSHAKES;
        }
        if (address != null) {
            int fromAddress = byAddress.getOrDefault(address, 0);
            if (fromAddress >= limits.perAddress()) {
                return HandshakeFailure.TOO_MANY_HANDSHAKES_FROM_ADDRESS;
            }
            byAddress.put(address, fromAddress + 1);
        }
        handshaking++;
        return null;
    }

    /** A connection admitted by {@link #enter} left the handshake. */
    synchronized void leave(InetAddress address) {
        handshaking--;
        if (address != null) {
            byAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
        }
    }

    /** The limit that {@code failure} names, for the log line. */
    String describe(HandshakeFailure failure) {
        return failure == HandshakeFailure.TOO_MANY_HANDSHAKES
                ? limits.perListener() + " connections in the handshake on this listener (limits.max-handshaking)"
                : limits.perAddress() + " connections in the handshake from this address (limits.max-handshaking-per-address)";
    }
}
