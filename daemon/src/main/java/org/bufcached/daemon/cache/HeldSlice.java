package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import java.nio.ByteBuffer;

/**
 * A READ reply's view of a buffer's mapped memory: no copy, and the buffer stays
 * held (bqhold) until the socket has written the bytes and released this view,
 * which then drops the hold (bqdrop). The hold keeps the buffer from being reused
 * and so keeps its window mapped for as long as the socket may read it.
 */
final class HeldSlice extends UnpooledUnsafeDirectByteBuf {
    private final BufCache cache;
    private final Buf bp;

    /** Takes over one hold of {@code bp} that the caller already has. */
    HeldSlice(BufCache cache, Buf bp, ByteBuffer memory) {
        super(ByteBufAllocator.DEFAULT, memory, memory.remaining());
        this.cache = cache;
        this.bp = bp;
        writerIndex(memory.remaining());
    }

    @Override
    protected void deallocate() {
        super.deallocate();
        cache.bqdrop(bp);
    }
}
