package org.bufcached.daemon.store;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Native memory for the tests: direct Netty buffers, which have a memory address. */
final class NativeBuffers {

    private NativeBuffers() {
    }

    /** A direct buffer of {@code length} zero bytes, written up to its capacity. */
    static ByteBuf zeroed(int length) {
        ByteBuf buffer = Unpooled.directBuffer(length, length);
        buffer.writeZero(length);
        return buffer;
    }

    /** A direct buffer of {@code length} bytes counting up from {@code seed}, so that no two neighbours are equal. */
    static ByteBuf pattern(int length, int seed) {
        ByteBuf buffer = zeroed(length);
        for (int i = 0; i < length; i++) {
            buffer.setByte(i, seed + i);
        }
        return buffer;
    }

    /** The bytes of {@code buffer} from its reader index to its writer index. */
    static byte[] bytes(ByteBuf buffer) {
        byte[] bytes = new byte[buffer.readableBytes()];
        buffer.getBytes(buffer.readerIndex(), bytes);
        return bytes;
    }
}
