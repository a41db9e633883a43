package org.bufcached.daemon.net;

/**
 * {@code limits.max-handshaking} and {@code limits.max-handshaking-per-address},
 * shared by the {@link HandshakeGate} of every listener and changed by a reload:
 * new values apply to connections accepted from then on.
 */
final class HandshakeLimits {
    private volatile int perListener;
    private volatile int perAddress;

    HandshakeLimits(int perListener, int perAddress) {
        set(perListener, perAddress);
    }

    void set(int perListener, int perAddress) {
        this.perListener = perListener;
        this.perAddress = perAddress;
    }

    int perListener() {
        return perListener;
    }

    int perAddress() {
        return perAddress;
    }
}
