package org.bufcached.daemon.cache;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.bufcached.daemon.store.MappedWindow;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mapped address space of the cache (the kernel's buffer_map / KVA): windows
 * of the backing files, their total bounded by a budget. Mapping a window past the
 * budget retires the least recently used ones; a retired window is unmapped only
 * once no buffer refers to it and every worker thread has passed a quiescent point
 * since its retirement, the user-space equivalent of a TLB shoot-down. Until then
 * it stays mapped, so no thread can touch unmapped memory.
 *
 * <p>Mapping and retiring are rare and take this object's lock; the hot path reads
 * a file's window table without it.
 */
final class KvaMap {
    private static final Logger LOG = LoggerFactory.getLogger(KvaMap.class);

    private final WorkerThreads threads;
    private final long windowSize;
    private volatile long maxMapped;
    private final AtomicLong mapped = new AtomicLong();
    /** Bytes of live (not retired) windows: what the budget bounds when a new window is mapped. */
    private long liveBytes;
    private final AtomicLong generations = new AtomicLong();
    private final AtomicLong unmaps = new AtomicLong();
    private final List<Window> live = new ArrayList<>();
    private final List<Window> retired = new ArrayList<>();
    /** Asked to drop the idle buffers of a retired window, so its unmap is not held up. */
    private final Consumer<Window> evictor;

    KvaMap(WorkerThreads threads, long windowSize, long maxMapped, Consumer<Window> evictor) {
        this.threads = threads;
        this.windowSize = windowSize;
        this.maxMapped = maxMapped;
        this.evictor = evictor;
    }

    long windowSize() {
        return windowSize;
    }

    void setMaxMapped(long bytes) {
        maxMapped = bytes;
    }

    long mappedBytes() {
        return mapped.get();
    }

    long unmapCount() {
        return unmaps.get();
    }

    synchronized int retiredCount() {
        return retired.size();
    }

    /** Maps window {@code index} of {@code file}, retiring others if the budget requires. */
    Window map(CachedFile file, int index) throws PosixException {
        List<Window> toEvict = new ArrayList<>();
        Window w;
        synchronized (this) {
            long offset = index * windowSize;
            long length = Math.min(windowSize, roundUpToPage(file.size() - offset));
            // Retired windows may stay mapped a while (held buffers, a grace period); the
            // budget counts live ones, or every window would be retired at once.
            while (liveBytes + length > maxMapped && !live.isEmpty()) {
                Window victim = leastRecentlyUsed();
                retireLocked(victim);
                toEvict.add(victim);
            }
            MappedWindow mw = MappedWindow.map(file.backing(), offset, length);
            w = new Window(mw, file, index, generations.incrementAndGet());
            w.lastUse = System.nanoTime();
            live.add(w);
            liveBytes += length;
            mapped.addAndGet(length);
        }
        toEvict.forEach(evictor);
        return w;
    }

    /** Takes {@code w} out of service: no new buffer maps through it; unmapped later by {@link #reclaim}. */
    void retire(Window w) {
        synchronized (this) {
            if (w.retired) {
                return;
            }
            retireLocked(w);
        }
        evictor.accept(w);
    }

    private void retireLocked(Window w) {
        if (live.remove(w)) {
            liveBytes -= w.length();
        }
        w.retired = true;
        w.file().forgetWindow(w);
        w.retiredAt = threads.snapshot();
        retired.add(w);
    }

    /** Retires every window of {@code file} (export removed or closed). */
    void retireAll(CachedFile file) {
        List<Window> mine = new ArrayList<>();
        synchronized (this) {
            for (Window w : new ArrayList<>(live)) {
                if (w.file() == file) {
                    retireLocked(w);
                    mine.add(w);
                }
            }
        }
        mine.forEach(evictor);
    }

    /** The retired windows some buffer still maps through (none: an empty list, nothing allocated). */
    synchronized List<Window> retiredInUse() {
        List<Window> inUse = List.of();
        for (Window w : retired) {
            if (w.refs.get() > 0) {
                if (inUse.isEmpty()) {
                    inUse = new ArrayList<>();
                }
                inUse.add(w);
            }
        }
        return inUse;
    }

    /** Unmaps the retired windows that no buffer and no thread can still use; returns how many. */
    int reclaim() {
        List<Window> ready = new ArrayList<>();
        synchronized (this) {
            for (Iterator<Window> it = retired.iterator(); it.hasNext(); ) {
                Window w = it.next();
                if (w.refs.get() == 0 && threads.gracePeriodOver(w.retiredAt)) {
                    it.remove();
                    ready.add(w);
                }
            }
        }
        for (Window w : ready) {
            try {
                w.mapping().unmap();
                mapped.addAndGet(-w.length());
                unmaps.incrementAndGet();
            } catch (PosixException e) {
                LOG.error("munmap of {} failed: {}", w, e.getMessage());
            }
        }
        return ready.size();
    }

    /** Whether windows of {@code file} are still mapped (live or awaiting unmap). */
    synchronized boolean holds(CachedFile file) {
        for (Window w : live) {
            if (w.file() == file) {
                return true;
            }
        }
        for (Window w : retired) {
            if (w.file() == file) {
                return true;
            }
        }
        return false;
    }

    private Window leastRecentlyUsed() {
        Window oldest = live.get(0);
        for (Window w : live) {
            if (w.lastUse < oldest.lastUse) {
                oldest = w;
            }
        }
        return oldest;
    }

    private static long roundUpToPage(long n) {
        long page = org.bufcached.daemon.store.Posix.pageSize();
        return (n + page - 1) / page * page;
    }
}
