package org.bufcached.protocol;

/** The server's first message: NBDMAGIC, IHAVEOPT and the 16 handshake flags. */
public record ServerGreeting(int handshakeFlags) {
    public static final int WIRE_SIZE = 18;
}
