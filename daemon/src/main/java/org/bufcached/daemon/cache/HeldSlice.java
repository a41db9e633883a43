package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.Recycler;
import java.nio.ByteBuffer;

/**
 * A READ reply's view of a buffer's mapped memory: no copy, and the buffer stays
 * held (bqhold) until the socket has written the bytes and released this view,
 * which then drops the hold (bqdrop). The hold keeps the buffer from being reused
 * and so keeps its window mapped for as long as the socket may read it.
 *
 * <p>Views are pooled per window, each over the window's whole memory with its
 * indices set to the part a reply sends: a READ hit allocates nothing. Writing
 * through a view is never done (a reply only reads it).
 */
final class HeldSlice extends UnpooledUnsafeDirectByteBuf {
    private final Recycler.Handle<HeldSlice> handle;
    private BufCache cache;
    private Buf bp;

    private HeldSlice(Recycler.Handle<HeldSlice> handle, ByteBuffer window) {
        // No slice(): every view of the window shares its one ByteBuffer, and none moves its position.
        super(ByteBufAllocator.DEFAULT, false, window, window.capacity());
        this.handle = handle;
    }

    /** The pool of views over one window's memory. */
    static Recycler<HeldSlice> pool(ByteBuffer window) {
        return new Recycler<>() {
            @Override
            protected HeldSlice newObject(Handle<HeldSlice> handle) {
                return new HeldSlice(handle, window);
            }
        };
    }

    /**
     * A view of {@code length} bytes at {@code offsetInWindow} of {@code bp}'s
     * window; takes over one hold of {@code bp} that the caller already has.
     */
    static ByteBuf of(BufCache cache, Buf bp, long offsetInWindow, int length) {
        Window w = bp.windowRef;
        HeldSlice s = w.slices.get();
        s.resetRefCnt();
        s.cache = cache;
        s.bp = bp;
        s.setIndex((int) offsetInWindow, (int) offsetInWindow + length);
        return s;
    }

    @Override
    protected void deallocate() {
        // The window's memory is not ours to free: give the view back and drop the hold.
        BufCache c = cache;
        Buf b = bp;
        cache = null;
        bp = null;
        handle.recycle(this);
        c.bqdrop(b);
    }
}
