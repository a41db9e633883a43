package org.bufcached.daemon.cache;

import java.util.concurrent.atomic.AtomicReferenceArray;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.PosixException;

/**
 * One backing file as the cache sees it (the vnode): its buffers by block number,
 * its windows, its flush class and its sequential-read state.
 */
public final class CachedFile {
    private final String name;
    private final BackingFile backing;
    private final long size;
    private final boolean heavy;
    private final KvaMap kva;
    private final AtomicReferenceArray<Window> windows;
    final BufHash hash = new BufHash();
    final ReadAhead readAhead = new ReadAhead();
    final FileStats stats = new FileStats();
    private volatile boolean closed;
    /** How a contiguous dirty range goes back to the file; a test may slow one file down. */
    volatile WriteBack writeBack = (file, window, offsetInWindow, length) ->
            file.backing().syncRange(window.mapping().fileOffset() + offsetInWindow, length);

    /** Writes {@code length} bytes of {@code window} back to stable-bound storage and waits. */
    @FunctionalInterface
    interface WriteBack {
        void write(CachedFile file, Window window, long offsetInWindow, long length) throws PosixException;
    }

    CachedFile(String name, BackingFile backing, long size, boolean heavy, KvaMap kva) {
        this.name = name;
        this.backing = backing;
        this.size = size;
        this.heavy = heavy;
        this.kva = kva;
        this.windows = new AtomicReferenceArray<>((int) ((size + kva.windowSize() - 1) / kva.windowSize()));
    }

    public String name() {
        return name;
    }

    public BackingFile backing() {
        return backing;
    }

    public long size() {
        return size;
    }

    public FileStats stats() {
        return stats;
    }

    public boolean heavy() {
        return heavy;
    }

    boolean closed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    void writeBack(Window w, long offsetInWindow, long length) throws PosixException {
        writeBack.write(this, w, offsetInWindow, length);
    }

    /**
     * The live window that maps {@code loffset}, with a reference taken for the
     * caller, mapping it if needed.
     */
    Window acquireWindow(long loffset) throws PosixException {
        int index = (int) (loffset / kva.windowSize());
        for (;;) {
            Window w = windows.get(index);
            if (w != null && !w.retired) {
                w.refs.incrementAndGet();
                if (!w.retired) {
                    w.lastUse = System.nanoTime();
                    return w;
                }
                w.refs.decrementAndGet();
            }
            synchronized (this) {
                w = windows.get(index);
                if (w == null || w.retired) {
                    windows.set(index, kva.map(this, index));
                }
            }
        }
    }

    /** The window went out of service; the next access maps a new one. */
    void forgetWindow(Window w) {
        windows.compareAndSet(w.index(), w, null);
    }

    int windowCount() {
        return windows.length();
    }

    Window windowAt(int index) {
        return windows.get(index);
    }

    @Override
    public String toString() {
        return name;
    }
}
