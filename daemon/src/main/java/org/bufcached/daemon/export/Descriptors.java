package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.protocol.Nbd;

/**
 * Turns the file's (length, {@link BackingFile#DATA}/{@link BackingFile#HOLE})
 * extent pairs into base:allocation block status descriptors, and a dirty
 * bitmap's (length, flags) pairs into its context's descriptors, keeping to what the wire allows: at least one descriptor, each
 * length nonzero and below 2^32.
 */
public final class Descriptors {
    /** Longest extent one descriptor can carry: under 2^32, a multiple of 4 KiB. */
    static final long MAX_DESCRIPTOR_LENGTH = 0xFFFF_F000L;

    private Descriptors() {
    }

    /**
     * {@code remaining} is the export's size past the request's offset: when the
     * file lists no extent (it is shorter than the export), the rest reads as a hole.
     */
    public static ByteBuf encode(ByteBufAllocator alloc, long[] extents, long remaining) {
        if (extents.length == 0) {
            long length = Math.min(Math.max(remaining, 1), MAX_DESCRIPTOR_LENGTH);
            return alloc.buffer(8).writeInt((int) length).writeInt(HOLE);
        }
        // The file's pairs are the caller's own: their second halves become the flags in place.
        for (int i = 1; i < extents.length; i += 2) {
            extents[i] = extents[i] == BackingFile.HOLE ? HOLE : 0;
        }
        return status(alloc, extents);
    }

    /**
     * Descriptors of (length, flags) pairs, at least one: a length over what one
     * descriptor carries ends the list there (a shorter answer is allowed; the
     * client asks again from where it ends).
     */
    public static ByteBuf status(ByteBufAllocator alloc, long[] pairs) {
        int count = pairs.length / 2;
        ByteBuf out = alloc.buffer(8 * Math.max(count, 1));
        for (int i = 0; i < count; i++) {
            long length = pairs[2 * i];
            int flags = (int) pairs[2 * i + 1];
            if (length > MAX_DESCRIPTOR_LENGTH) {
                out.writeInt((int) MAX_DESCRIPTOR_LENGTH).writeInt(flags);
                break;
            }
            out.writeInt((int) length).writeInt(flags);
        }
        return out;
    }

    /** base:allocation's flags for a hole: it reads as zeroes, too. */
    private static final int HOLE = Nbd.NBD_STATE_HOLE | Nbd.NBD_STATE_ZERO;
}
