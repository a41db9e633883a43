package org.bufcached.daemon.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flush daemons, buf_daemon and buf_daemon_hw: each a thread that, while its
 * class's dirty space stays above its limit, walks the per-loop dirty queues
 * through {@link #flushbufqueues} and starts clustered write-backs
 * ({@link #cluster_awrite}) on I/O workers, keeping its running write-back under
 * hirunningspace. Buffers of heavy exports are on DIRTY_HW and only
 * buf_daemon_hw writes them, so a slow store never holds up a fast one.
 */
final class BufDaemon implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(BufDaemon.class);
    /** Longest back-off before a buffer whose write-back failed is tried again. */
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final BufCache cache;
    private final BufSpace space;
    private final boolean heavy;
    private final int queue;
    private final Executor io;
    private final Buf marker = Buf.marker();
    private final Thread thread;
    private volatile boolean running = true;

    final LongAdder passes = new LongAdder();
    final LongAdder buffersWritten = new LongAdder();
    final LongAdder clusters = new LongAdder();
    final LongAdder writeErrors = new LongAdder();
    private final LongConsumer clusterSizes;
    private boolean active;

    BufDaemon(BufCache cache, boolean heavy, Executor io, LongConsumer clusterSizes) {
        this.cache = cache;
        this.space = cache.space;
        this.heavy = heavy;
        this.queue = heavy ? BufQueues.DIRTY_HW : BufQueues.DIRTY;
        this.io = io;
        this.clusterSizes = clusterSizes;
        marker.qindex = BufQueues.NONE;
        marker.qcpu = 0;
        this.thread = new Thread(this, heavy ? "buf_daemon_hw" : "buf_daemon");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() {
        running = false;
        space.bd_wakeup_all();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String name() {
        return thread.getName();
    }

    /** buf_daemon1: flush while above the limit, bounded by running write-back; then sleep. */
    @Override
    public void run() {
        WorkerThreads threads = cache.threads;
        while (running) {
            threads.enter();
            try {
                space.waitrunningbufspace(heavy);
                long limit = space.lodirtybufspace / 2;
                while (running && limit(limit)) {
                    if (!active) {
                        active = true;
                        LOG.debug("{}: flushing ({} dirty bytes, {} running)", name(), space.dirtykvaspace.get(),
                                space.runningbufspace.get());
                    }
                    if (flushbufqueues() == 0) {
                        break;
                    }
                    if (space.running(heavy) < space.hirunningspace) {
                        continue;
                    }
                    space.waitrunningbufspace(heavy);
                }
                if (active) {
                    active = false;
                    LOG.debug("{}: idle ({} dirty bytes)", name(), space.dirtykvaspace.get());
                }
                cache.reclaimWindows();
            } catch (RuntimeException e) {
                LOG.error("{} failed a pass", name(), e);
            } finally {
                threads.exit();
            }
            space.recheckWaiters();
            space.bd_sleep(heavy);
        }
    }

    private boolean limit(long limit) {
        return heavy ? space.buf_daemon_hw_limit(limit) : space.buf_daemon_limit(limit);
    }

    /**
     * flushbufqueues: starting at the marker's queue set, flush up to flushperqueue
     * buffers of this daemon's dirty queue, then move the marker to the next set
     * for fairness; keep going round while a set had nothing. Returns how many
     * buffers were flushed or disposed.
     */
    int flushbufqueues() {
        passes.increment();
        int r = 0;
        int loops = space.flushperqueue;
        int lcpu = marker.qcpu;
        boolean exhausted;
        do {
            BufQueues pcpu = cache.bufpcpu[marker.qcpu];
            exhausted = true;
            pcpu.spin.lock();
            pcpu.insertHead(queue, marker);
            Buf bp = marker;
            while ((bp = BufQueues.next(bp)) != null) {
                if (bp.isSet(Buf.B_MARKER) || !bp.isSet(Buf.B_DELWRI)) {
                    continue;
                }
                if (bp.isSet(Buf.B_DEFERRED) && System.nanoTime() < bp.retryAfterNanos) {
                    continue; // a failed write-back backing off: never spin on it
                }
                if (!bp.lock.tryLock()) {
                    continue;
                }
                // Move the marker behind the buffer: the walk resumes there after the lock is dropped.
                pcpu.remove(marker);
                pcpu.insertAfter(bp, marker);
                if (!bp.isSet(Buf.B_DELWRI) || bp.qindex != queue) {
                    pcpu.spin.unlock();
                    cache.BUF_UNLOCK(bp);
                    pcpu.spin.lock();
                    bp = marker;
                    continue;
                }
                pcpu.remove(bp);
                pcpu.spin.unlock();
                try {
                    bp.clearFlags(Buf.B_DEFERRED);
                    if (bp.isSet(Buf.B_INVAL)) {
                        cache.brelse(bp); // disposing of an invalid buffer counts as a flush
                    } else {
                        if (!bp.isSet(Buf.B_ERROR)) {
                            bp.setFlags(Buf.B_AGE | Buf.B_KVABIO);
                        } else {
                            bp.clearFlags(Buf.B_AGE);
                        }
                        cluster_awrite(bp);
                    }
                } catch (RuntimeException e) {
                    // A bug, not an I/O error (those go through biodone): keep the walk and its marker sound.
                    LOG.error("{}: flushing {} failed", name(), bp, e);
                }
                pcpu.spin.lock();
                r++;
                if (--loops == 0) {
                    exhausted = false;
                    break;
                }
                bp = marker;
            }
            pcpu.remove(marker);
            marker.qindex = BufQueues.NONE;
            pcpu.spin.unlock();
            marker.qcpu = (marker.qcpu + 1) % cache.bufpcpu.length;
        } while (exhausted && marker.qcpu != lcpu);
        return r;
    }

    /**
     * cluster_awrite: from the locked buffer {@code bp}, gather the adjacent dirty
     * buffers of the same file in both directions, without waiting on any lock and
     * within one window, up to the cluster limit; then write the contiguous range
     * back on a write-back worker. runningbufspace covers the whole cluster until
     * its write-back has gone through biodone.
     */
    void cluster_awrite(Buf bp) {
        CachedFile f = bp.file;
        long limit = Math.max(space.clusterLimit, bp.size);
        List<Buf> cluster = new ArrayList<>();
        cluster.add(bp);
        long bytes = bp.size;
        Window w = bp.windowRef;
        long first = bp.blkno;
        long last = bp.blkno;
        while (bytes + space.bufferSize <= limit) {
            Buf nb = adjacent(f, w, first - 1);
            if (nb == null) {
                break;
            }
            cluster.add(0, nb);
            bytes += nb.size;
            first--;
        }
        while (bytes + space.bufferSize <= limit) {
            Buf nb = adjacent(f, w, last + 1);
            if (nb == null) {
                break;
            }
            cluster.add(nb);
            bytes += nb.size;
            last++;
        }
        long total = bytes;
        int n = cluster.size();
        long[] masks = new long[n];
        long[] associations = new long[n];
        // Dirty becomes running (bundirty at the start of the I/O, as bawrite does), and
        // the buffers go back on their queues at once: the data is in the page cache,
        // so a writer may dirty them again while the write-back runs instead of waiting.
        long windowOffset = cluster.get(0).windowOffset();
        // Dirty becomes running (bundirty at the start of the I/O, as bawrite does), and
        // the buffers go back on their queues unlocked but held (bqhold): they cannot be
        // reused, so their window stays mapped, while a writer may dirty them again
        // instead of waiting for the disk.
        space.runningStarted(total, heavy);
        for (int i = 0; i < n; i++) {
            Buf b = cluster.get(i);
            masks[i] = b.dirty;
            associations[i] = b.association;
            b.clearFlags(Buf.B_ERROR); // retried now; biodone marks it again if it fails again
            cache.bqhold(b);
            cache.bundirty(b);
            cache.bqrelse(b);
        }
        clusters.increment();
        clusterSizes.accept(total);
        io.execute(() -> {
            cache.threads.enter();
            Exception error = null;
            try {
                for (Buf b : cluster) {
                    cache.kvabio.bkvasync(b);
                }
                f.writeBack(w, windowOffset, total);
            } catch (PosixException | RuntimeException e) {
                error = e;
                f.stats.writebackErrors.increment();
            } finally {
                biodone(f, cluster, associations, masks, error);
                cluster.forEach(cache::bqdrop);
                space.runningDone(total, heavy);
                cache.threads.exit();
            }
        });
    }

    /** The neighbouring block's buffer, locked and off its queue, if it can join the cluster. */
    private Buf adjacent(CachedFile f, Window w, long blkno) {
        if (blkno < 0) {
            return null;
        }
        Buf nb = cache.findblk(f, blkno, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
        if (nb == null) {
            return null;
        }
        if (nb.windowRef != w || (nb.flags() & (Buf.B_DELWRI | Buf.B_INVAL | Buf.B_ERROR)) != Buf.B_DELWRI
                || nb.qindex == BufQueues.NONE) {
            cache.BUF_UNLOCK(nb);
            return null;
        }
        cache.bremfree(nb);
        return nb;
    }

    /**
     * biodone for a clustered write-back. On success the buffers are already clean.
     * On failure each one that still stands for its block is dirtied again, marked
     * B_ERROR, and B_DEFERRED until a growing back-off has passed, so it is retried
     * without a live lock. Runs on the write-back worker, which may wait for a lock.
     */
    private void biodone(CachedFile f, List<Buf> cluster, long[] associations, long[] masks, Exception error) {
        if (error == null) {
            buffersWritten.add(cluster.size());
            return;
        }
        for (int i = 0; i < cluster.size(); i++) {
            Buf b = cluster.get(i);
            long blkno = b.blkno;
            if (b.association != associations[i] || blkno < 0) {
                continue; // invalidated meanwhile: nothing left to retry
            }
            Buf bp;
            try {
                bp = cache.lockOrWait(f, blkno);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (bp == null) {
                continue; // recycled meanwhile: the failure shows in the next FLUSH's fdatasync
            }
            if (bp != b || bp.association != associations[i]) {
                cache.BUF_UNLOCK(bp);
                continue;
            }
            writeErrors.increment();
            bp.setFlags(Buf.B_ERROR | Buf.B_DEFERRED);
            bp.errors++;
            long backoff = Math.min(MAX_BACKOFF_NANOS, TimeUnit.MILLISECONDS.toNanos(10) << Math.min(bp.errors, 20));
            bp.retryAfterNanos = System.nanoTime() + backoff;
            if (bp.errors == 1) {
                LOG.warn("write-back of {} failed: {}", bp, error.toString());
            }
            cache.bremfree(bp);
            cache.bdirty(bp, masks[i]);
            cache.bqrelse(bp);
        }
    }
}
