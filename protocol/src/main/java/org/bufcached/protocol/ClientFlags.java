package org.bufcached.protocol;

/** The client's 32-bit flags that answer the greeting. */
public record ClientFlags(int flags) {
    public static final int WIRE_SIZE = 4;

    public boolean fixedNewstyle() {
        return (flags & Nbd.NBD_FLAG_C_FIXED_NEWSTYLE) != 0;
    }

    public boolean noZeroes() {
        return (flags & Nbd.NBD_FLAG_C_NO_ZEROES) != 0;
    }

    /** Flags the server did not advertise in {@code handshakeFlags}, or 0. */
    public int unexpected(int handshakeFlags) {
        int allowed = Nbd.NBD_FLAG_C_FIXED_NEWSTYLE;
        if ((handshakeFlags & Nbd.NBD_FLAG_NO_ZEROES) != 0) {
            allowed |= Nbd.NBD_FLAG_C_NO_ZEROES;
        }
        return flags & ~allowed;
    }
}
