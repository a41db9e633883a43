package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * What a copy moves for one data piece: nothing (the range reads as zeroes), bytes
 * in memory, or a range of the source file that the destination sends without
 * reading it into memory (sendfile).
 */
sealed interface Payload permits Payload.Zero, Payload.Bytes, Payload.Region {
    /** The range reads as zeroes: the destination zeroes it instead of writing. */
    record Zero() implements Payload {
    }

    /** Bytes read into {@code data}, which the write releases. */
    record Bytes(ByteBuf data) implements Payload {
    }

    /** {@code length} bytes of {@code file} from {@code position}; the file stays open for the whole copy. */
    record Region(FileChannel file, long position, int length) implements Payload {
    }

    Zero ZERO = new Zero();

    /** The zeroes {@link #isZero} compares with (read-only, shared). */
    ByteBuffer ZEROES = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();

    /** {@code data} as a payload: {@link #ZERO} (and released) when every byte is zero. */
    static Payload of(ByteBuf data) {
        if (isZero(data)) {
            data.release();
            return ZERO;
        }
        return new Bytes(data);
    }

    /** True when every readable byte of {@code data} is zero. */
    static boolean isZero(ByteBuf data) {
        return isZero(data.nioBuffer());
    }

    /**
     * True when every remaining byte of {@code data} is zero. Compared a block at a time
     * with {@link ByteBuffer#mismatch}, which the JDK does eight bytes (or a vector) at a
     * time; random data answers at its first block.
     */
    static boolean isZero(ByteBuffer data) {
        for (int at = data.position(), end = data.limit(); at < end; at += ZEROES.capacity()) {
            int n = Math.min(ZEROES.capacity(), end - at);
            if (data.slice(at, n).mismatch(ZEROES.duplicate().limit(n)) >= 0) {
                return false;
            }
        }
        return true;
    }
}
