package org.bufcached.daemon.cache;

import java.util.concurrent.atomic.AtomicInteger;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.MappedWindow;

/**
 * A mapped window as the cache tracks it: how many buffers refer to it, when it
 * was last used, and, once retired, the thread snapshot its unmap waits on.
 */
final class Window {
    private final MappedWindow mapping;
    private final CachedFile file;
    private final int index;
    private final long generation;
    final AtomicInteger refs = new AtomicInteger();
    /** Pooled READ views of this window's memory (the whole window as one ByteBuffer, made once). */
    final io.netty.util.Recycler<HeldSlice> slices;
    /** Drops a reference taken for an operation on the window's memory, when it completes. */
    final IoCompletion dropRef = result -> refs.decrementAndGet();
    volatile boolean retired;
    volatile long lastUse;
    long[] retiredAt;

    Window(MappedWindow mapping, CachedFile file, int index, long generation) {
        this.mapping = mapping;
        this.file = file;
        this.index = index;
        this.generation = generation;
        this.slices = HeldSlice.pool(mapping.byteBuffer(0, (int) mapping.length()));
    }

    MappedWindow mapping() {
        return mapping;
    }

    CachedFile file() {
        return file;
    }

    int index() {
        return index;
    }

    long generation() {
        return generation;
    }

    long length() {
        return mapping.length();
    }

    @Override
    public String toString() {
        return "Window[" + file.name() + " #" + index + " gen " + generation + " refs " + refs.get()
                + (retired ? " retired" : "") + "]";
    }
}
