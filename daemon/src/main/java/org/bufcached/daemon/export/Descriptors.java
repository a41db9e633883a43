package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.protocol.Nbd;

/**
 * Turns the file's (length, {@link BackingFile#DATA}/{@link BackingFile#HOLE})
 * extent pairs into base:allocation block status descriptors, and a dirty
 * bitmap's (length, flags) pairs into its context's descriptors, keeping to what
 * the wire allows: at least one descriptor, each length nonzero. Two layouts:
 * NBD_REPLY_TYPE_BLOCK_STATUS's (32-bit length, 32-bit flags), where an extent of
 * 4 GiB or more is cut short and ends the list; and with extended headers
 * NBD_REPLY_TYPE_BLOCK_STATUS_EXT's ("wide": 64-bit length, 64-bit status whose
 * upper half is zero for these 32-bit contexts), where any extent fits whole.
 */
public final class Descriptors {
    /** Longest extent one 32-bit descriptor can carry: under 2^32, a multiple of 4 KiB. */
    static final long MAX_DESCRIPTOR_LENGTH = 0xFFFF_F000L;

    private Descriptors() {
    }

    /**
     * {@code remaining} is the export's size past the request's offset: when the
     * file lists no extent (it is shorter than the export), the rest reads as a hole.
     */
    public static ByteBuf encode(ByteBufAllocator alloc, long[] extents, long remaining, boolean wide) {
        if (extents.length == 0) {
            return put(alloc.buffer(wide ? 16 : 8), wide, Math.max(remaining, 1), HOLE);
        }
        // The file's pairs are the caller's own: their second halves become the flags in place.
        for (int i = 1; i < extents.length; i += 2) {
            extents[i] = extents[i] == BackingFile.HOLE ? HOLE : 0;
        }
        return status(alloc, extents, wide);
    }

    /**
     * Descriptors of (length, flags) pairs, at least one: in the 32-bit layout a
     * length over what one descriptor carries ends the list there (a shorter answer
     * is allowed; the client asks again from where it ends).
     */
    public static ByteBuf status(ByteBufAllocator alloc, long[] pairs, boolean wide) {
        int count = pairs.length / 2;
        ByteBuf out = alloc.buffer((wide ? 16 : 8) * Math.max(count, 1));
        for (int i = 0; i < count; i++) {
            long length = pairs[2 * i];
            put(out, wide, length, (int) pairs[2 * i + 1]);
            if (!wide && length > MAX_DESCRIPTOR_LENGTH) {
                break;
            }
        }
        return out;
    }

    private static ByteBuf put(ByteBuf out, boolean wide, long length, int flags) {
        if (wide) {
            return out.writeLong(length).writeLong(flags & 0xFFFF_FFFFL);
        }
        return out.writeInt((int) Math.min(length, MAX_DESCRIPTOR_LENGTH)).writeInt(flags);
    }

    /** base:allocation's flags for a hole: it reads as zeroes, too. */
    private static final int HOLE = Nbd.NBD_STATE_HOLE | Nbd.NBD_STATE_ZERO;
}
