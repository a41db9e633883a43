package org.bufcached.daemon.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.Posix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flush daemons, buf_daemon and buf_daemon_hw: each a thread that, while its
 * class's dirty space stays above its limit, walks the per-loop dirty queues
 * through {@link #flushbufqueues} and starts clustered write-backs
 * ({@link #cluster_awrite}) on the event loops' file I/O, keeping its running
 * write-back under hirunningspace. Buffers of heavy exports are on DIRTY_HW and
 * only buf_daemon_hw writes them, so a slow store never holds up a fast one.
 *
 * <p>The flushers are the one kind of thread allowed to wait (for running
 * write-back to drain, for work); nothing else ever waits for them. They also sync
 * each of their files in the background once its oldest unsynced write is
 * {@code cache.sync-interval} old, which bounds what an I/O error can put in
 * doubt, and notice a backing file cut short under its export.
 */
final class BufDaemon implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(BufDaemon.class);
    /** How often each file's identity (the path still names it) is checked: a stat of the path. */
    private static final long IDENTITY_CHECK_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final BufCache cache;
    private final BufSpace space;
    private final boolean heavy;
    private final int queue;
    private final Buf marker = Buf.marker();
    private final Thread thread;
    private volatile boolean running = true;
    private long lastIdentityCheck;

    final LongAdder passes = new LongAdder();
    final LongAdder buffersWritten = new LongAdder();
    final LongAdder clusters = new LongAdder();
    final LongAdder writeErrors = new LongAdder();
    private final LongConsumer clusterSizes;
    /** How a write-back gets onto its loop; null: the loop's own executor (a test may run it in place). */
    private final java.util.concurrent.Executor hop;
    private boolean active;

    BufDaemon(BufCache cache, boolean heavy, LongConsumer clusterSizes) {
        this(cache, heavy, null, clusterSizes);
    }

    BufDaemon(BufCache cache, boolean heavy, java.util.concurrent.Executor hop, LongConsumer clusterSizes) {
        this.cache = cache;
        this.hop = hop;
        this.space = cache.space;
        this.heavy = heavy;
        this.queue = heavy ? BufQueues.DIRTY_HW : BufQueues.DIRTY;
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
                while (running && limit()) {
                    if (!active) {
                        active = true;
                        LOG.debug("{}: flushing ({} dirty bytes, {} running)", name(), space.dirtykvaspace.get(),
                                space.runningbufspace.get());
                    }
                    if (flushbufqueues() == 0) {
                        break;
                    }
                    if (space.running(heavy) < space.hirunningspace && !(heavy && space.heavyAtLimit())) {
                        continue;
                    }
                    space.waitrunningbufspace(heavy);
                }
                if (active) {
                    active = false;
                    LOG.debug("{}: idle ({} dirty bytes)", name(), space.dirtykvaspace.get());
                }
                releaseRetiredWindows();
                cache.reclaimWindows();
                maintainFiles();
            } catch (RuntimeException e) {
                LOG.error("{} failed a pass", name(), e);
            } finally {
                threads.exit();
            }
            space.recheckWaiters();
            space.bd_sleep(heavy);
        }
    }

    /**
     * A retired window stays mapped while a buffer maps through it. When it
     * retired, its idle clean buffers were dropped; a dirty one was skipped, and
     * below the low mark nothing would ever write it back, so the window stayed
     * over the mapped budget for good. Each pass writes those back and drops again
     * what has gone clean since.
     */
    void releaseRetiredWindows() {
        for (Window w : cache.kva.retiredInUse()) {
            CachedFile f = w.file();
            if (f.heavy() != heavy || f.closed()) {
                continue;
            }
            cache.evictWindow(w);
            long first = w.mapping().fileOffset() / space.bufferSize;
            long last = (w.mapping().fileOffset() + w.length() - 1) / space.bufferSize;
            for (long blkno = first; blkno <= last && running; blkno++) {
                Buf bp = cache.findblk(f, blkno, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
                if (bp == null) {
                    continue;
                }
                if (bp.windowRef != w || (bp.flags() & (Buf.B_DELWRI | Buf.B_INVAL)) != Buf.B_DELWRI
                        || bp.qindex == BufQueues.NONE) {
                    cache.BUF_UNLOCK(bp);
                    continue;
                }
                cache.bremfree(bp);
                bp.setFlags(Buf.B_AGE | Buf.B_KVABIO);
                cluster_awrite(bp);
            }
        }
    }

    /** Background syncs and size checks for the files of this daemon's flush class. */
    private void maintainFiles() {
        long now = System.nanoTime();
        boolean checkIdentity = now - lastIdentityCheck >= IDENTITY_CHECK_NANOS;
        if (checkIdentity) {
            lastIdentityCheck = now;
        }
        for (CachedFile f : cache.files) {
            if (f.heavy() != heavy || f.closed()) {
                continue;
            }
            long interval = space.syncIntervalNanos;
            if (interval > 0) {
                f.durability.backgroundSync(interval);
            }
            if (f.durability.writtenSinceSync() && f.durability.pacing.due(now)) {
                writeAheadOfSync(f);
            }
            // Every pass (at least ten a second): an lseek, cheap, and the sooner a file cut
            // short is known, the fewer reads are served from pages past its end.
            if (f.checkShrunk() >= 0) {
                cache.shrunk(f);
            }
            if (checkIdentity) {
                f.checkReplaced();
            }
        }
    }

    /**
     * Starts the write-back of everything dirty in {@code f}, without waiting for
     * it: the next FLUSH then waits only for what came after (see {@link SyncPacing}).
     * An error is the file's, as in {@link #biodone}.
     */
    private void writeAheadOfSync(CachedFile f) {
        FileIo io = cache.loops().any();
        IoCompletion done = result -> {
            f.durability.pacing.finished();
            if (result < 0) {
                writeErrors.increment();
                f.durability.failed((int) -result, "write-back of the whole file ahead of a FLUSH");
            }
        };
        io.loop().execute(() -> {
            try {
                io.syncFileRange(f.writebackFd, 0, 0, Posix.SYNC_FILE_RANGE_WRITE, done);
            } catch (RuntimeException e) {
                LOG.error("{}: write-back of {} ahead of a FLUSH failed to start", name(), f, e);
                f.durability.pacing.finished();
            }
        });
    }

    private boolean limit() {
        return heavy ? space.buf_daemon_hw_limit() : space.buf_daemon_limit();
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
                if (heavy && space.heavyAtLimit()) {
                    exhausted = false; // a slow store is busy enough: come back when one finishes
                    break;
                }
                if (bp.isSet(Buf.B_MARKER) || !bp.isSet(Buf.B_DELWRI)) {
                    continue;
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
                    if (bp.isSet(Buf.B_INVAL)) {
                        cache.brelse(bp); // disposing of an invalid buffer counts as a flush
                    } else {
                        bp.setFlags(Buf.B_AGE | Buf.B_KVABIO);
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
     * back on an event loop's file I/O. runningbufspace covers the whole cluster
     * until its write-back has gone through {@link #biodone}.
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
        long offset = cluster.get(0).loffset;
        // Dirty becomes running (bundirty at the start of the I/O, as bawrite does), and
        // the buffers go back on their queues unlocked but held (bqhold): they cannot be
        // reused, so their window stays mapped, while a writer may dirty them again
        // instead of waiting for the disk.
        space.runningStarted(total, heavy);
        for (Buf b : cluster) {
            cache.bqhold(b);
            cache.bundirty(b);
            cache.bqrelse(b);
        }
        clusters.increment();
        clusterSizes.accept(total);
        FileIo io = cache.loops().any();
        Runnable start = () -> startWriteBack(f, io, cluster, offset, total);
        if (hop != null) {
            hop.execute(start);
        } else {
            io.loop().execute(start);
        }
    }

    /** On the loop: starts the write-back; whatever happens, biodone runs exactly once. */
    private void startWriteBack(CachedFile f, FileIo io, List<Buf> cluster, long offset, long total) {
        boolean[] completed = {false};
        long started = System.nanoTime();
        IoCompletion biodone = result -> {
            completed[0] = true;
            biodone(f, cluster, offset, total, result, System.nanoTime() - started);
        };
        try {
            f.writeBack.start(f, io, offset, (int) total, biodone);
        } catch (RuntimeException e) {
            LOG.error("{}: write-back of {} [{}, +{}) failed to start", name(), f, offset, total, e);
            if (!completed[0]) {
                biodone.complete(-org.bufcached.daemon.store.Errno.EIO);
            }
        }
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
        if (nb.windowRef != w || (nb.flags() & (Buf.B_DELWRI | Buf.B_INVAL)) != Buf.B_DELWRI
                || nb.qindex == BufQueues.NONE) {
            cache.BUF_UNLOCK(nb);
            return null;
        }
        cache.bremfree(nb);
        return nb;
    }

    /**
     * biodone for a clustered write-back, on the loop that ran it. The buffers were
     * made clean when it started. A failure is the file's, not the cluster's (Linux
     * reports any write-back error of the file to the next sync of each open file
     * description, and marks the failed pages clean): {@link Durability} puts
     * everything unproven in doubt and has it written again. A slow one pauses the
     * file's loop writes ({@link LoopWrites#wroteBack}). Nothing here waits.
     */
    private void biodone(CachedFile f, List<Buf> cluster, long offset, long length, long result, long took) {
        try {
            if (result < 0) {
                writeErrors.increment();
                f.durability.failed((int) -result, "write-back of [" + offset + ", +" + length + ")");
            } else {
                buffersWritten.add(cluster.size());
                if (f.loopWrites.wroteBack(length, took)) {
                    cache.loopWritePauses.increment();
                }
            }
        } finally {
            cluster.forEach(cache::bqdrop);
            space.runningDone(length, heavy);
        }
    }
}
