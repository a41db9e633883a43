package org.bufcached.daemon.cache;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What of one file is proven on stable storage, and the syncs that prove it: the
 * durability contract of FLUSH and FUA, including after an I/O error.
 *
 * <p>Linux reports a write-back error once per open file description (errseq_t)
 * and marks the failed pages clean: a later fdatasync succeeds without writing
 * them (PostgreSQL's "fsyncgate"). Nor does it say which pages failed: the error
 * belongs to the file. So this class keeps, page by page, what was written since
 * the start of the last successful sync ({@link #unsynced}). Any error seen by
 * the flushers' sync_file_range or by an fdatasync makes all of that
 * {@link #suspect}: the file is FAILED, and every FLUSH and FUA is answered EIO
 * until each suspect page has been written again from the page cache (the
 * recovery, {@link RecoveryOp}) and a sync started after that has succeeded. A
 * suspect page no longer in memory cannot be rewritten: it is {@link #lost}, and
 * the file stays LOST until the client overwrites those pages or the operator
 * reloads the export. Nothing is ever answered OK that cannot be proven.
 *
 * <p>Syncs are group commits: one fdatasync at a time per file; FLUSHes that
 * arrive while one runs wait for the next, because the running one may have
 * started before their writes completed.
 *
 * <p>Concurrency. Writers mark pages without a lock ({@link #written}): they set
 * bits in the current {@link #unsynced} map, then compare the failure count they
 * saw when they started with the current one, and take the lock only when it
 * moved (their pages may have been in the page cache when write-back failed).
 * That order, set then check, is what makes the lock-free path safe against a
 * concurrent {@link #failed}: either the failure's merge sees the bit, or the
 * writer sees the failure. Everything else is guarded by {@code this}: the maps
 * other than the current {@code unsynced}'s bits, the state changes, the waiters.
 * The lock is held for bookkeeping only, never across I/O.
 */
final class Durability {
    private static final Logger LOG = LoggerFactory.getLogger(Durability.class);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    enum State {
        /** Every write answered before the last successful sync started is durable. */
        CLEAN,
        /** A write-back or sync failed; the suspect pages are being or will be written again. */
        FAILED,
        /** Some suspect pages were gone from memory before they could be written again. */
        LOST
    }

    /** A FLUSH, FUA or internal caller waiting for a sync. */
    interface SyncWaiter {
        /**
         * Called once, on the loop that finished the sync: {@code failure} is null
         * when everything written before the sync started is on stable storage.
         */
        void synced(Throwable failure);
    }

    /** Writes the suspect pages again; calls {@link #recoveryFinished} when done. */
    interface Recovery {
        void recover(Durability durability, FileIo io);
    }

    private final String name;
    private final int syncFd;
    private final int pageShift;
    private final FileStats stats;
    private final Supplier<FileIo> anyLoop;
    private Recovery recovery;

    /** Pages written since the current epoch began: set lock-free by writers, swapped under the lock. */
    private volatile PageBitmap unsynced;
    /** The epoch a running sync is proving, or null. */
    private PageBitmap syncing;
    /** A cleared map for the next epoch. */
    private PageBitmap spare;
    private final PageBitmap suspect;
    private final PageBitmap lost;
    /** Failures seen so far; writers read it lock-free. */
    private volatile long failures;
    private volatile State state = State.CLEAN;
    /** When the first page of the current epoch was written, or 0; for the background sync. */
    private volatile long epochStartNanos;

    // Guarded by this.
    private ArrayDeque<SyncWaiter> waiting = new ArrayDeque<>();
    private ArrayDeque<SyncWaiter> batch = new ArrayDeque<>();
    private boolean syncRunning;
    private boolean recoveryRunning;
    private boolean wantRecovery;
    private boolean wantSync;
    private boolean kickScheduled;
    /** Failure count when the running sync started, and whether it can make the file CLEAN. */
    private long syncGeneration;
    private boolean syncCleans;
    /** Failure count when the last recovery started. */
    private long recoveredGeneration = 0;
    private long backoffNanos;
    /** Suspect pages were added outside {@link #failed}: the next recovery must run even for the same failure. */
    private boolean suspectGrew;
    private String lastFailure = "";
    private boolean closed;

    private final IoCompletion syncCompletion = this::syncDone;
    /** How often the flushers write the file back ahead of its clients' syncs. */
    final SyncPacing pacing = new SyncPacing();

    Durability(String name, long size, int syncFd, int pageSize, FileStats stats, Supplier<FileIo> anyLoop) {
        this.name = name;
        this.syncFd = syncFd;
        this.pageShift = Integer.numberOfTrailingZeros(pageSize);
        this.stats = stats;
        this.anyLoop = anyLoop;
        long pages = (size + pageSize - 1) >>> pageShift;
        this.unsynced = new PageBitmap(pages);
        this.spare = new PageBitmap(pages);
        this.suspect = new PageBitmap(pages);
        this.lost = new PageBitmap(pages);
    }

    void recovery(Recovery r) {
        this.recovery = r;
    }

    State state() {
        return state;
    }

    /** The failure count, taken by a write when it starts, for {@link #written}. */
    long generation() {
        return failures;
    }

    int pageShift() {
        return pageShift;
    }

    /**
     * A write (or TRIM, WRITE_ZEROES, recovery rewrite) of {@code [offset, offset +
     * length)} is in the page cache. {@code generation} is {@link #generation()}
     * from before the write was issued: if a failure came since, the write's pages
     * may have been lost by it.
     */
    void written(long offset, long length, long generation) {
        if (length <= 0) {
            return;
        }
        long first = offset >>> pageShift;
        long count = ((offset + length - 1) >>> pageShift) - first + 1;
        unsynced.set(first, count);
        if (epochStartNanos == 0) {
            epochStartNanos = System.nanoTime();
        }
        if (failures != generation) {
            writtenAcrossFailure(first, count);
        }
    }

    private synchronized void writtenAcrossFailure(long first, long count) {
        unsynced.set(first, count);
        suspect.set(first, count);
        suspectGrew = true;
        if (state == State.CLEAN) {
            state = State.FAILED;
            stats.durabilityFailed = true;
            LOG.warn("export {}: a write in flight during the last write-back failure ({}) may have been lost with it;"
                    + " FLUSH and FUA answer EIO until it is written again and synced", name, lastFailure);
            scheduleRecoveryLocked();
        }
    }

    /**
     * The client gave {@code [offset, offset + length)} new contents (a WRITE of
     * whole pages, TRIM, WRITE_ZEROES): whatever of it was suspect or lost no longer
     * needs rewriting. Partial pages keep their marks.
     */
    void redefined(long offset, long length) {
        if (state == State.CLEAN) {
            return;
        }
        long pageSize = 1L << pageShift;
        long first = (offset + pageSize - 1) >>> pageShift;
        long end = (offset + length) >>> pageShift;
        if (end <= first) {
            return;
        }
        synchronized (this) {
            suspect.clear(first, end - first);
            lost.clear(first, end - first);
            if (state == State.LOST && lost.isEmpty()) {
                state = State.FAILED;
                suspectGrew = true;
                LOG.info("export {}: every lost page was overwritten by the client; recovery resumes", name);
                scheduleRecoveryLocked();
            }
        }
    }

    /**
     * A write covered the edge pages of {@code [offset, offset + length)} in part,
     * after they were proven still in memory: the kernel now holds each whole page
     * dirty again, the part in doubt with it, so they need no rewriting.
     */
    void rewroteEdges(long offset, long length) {
        if (state == State.CLEAN) {
            return;
        }
        long mask = (1L << pageShift) - 1;
        synchronized (this) {
            if ((offset & mask) != 0) {
                suspect.clear(offset >>> pageShift, 1);
            }
            if (((offset + length) & mask) != 0) {
                suspect.clear((offset + length - 1) >>> pageShift, 1);
            }
        }
    }

    /** Whether any page of {@code [offset, offset + length)} awaits rewriting (only when not CLEAN). */
    boolean suspect(long offset, long length) {
        if (state == State.CLEAN) {
            return false;
        }
        long first = offset >>> pageShift;
        long count = ((offset + length - 1) >>> pageShift) - first + 1;
        synchronized (this) {
            return suspect.any(first, count);
        }
    }

    /**
     * A write-back or sync of the file failed with {@code errno}: everything not
     * proven durable becomes suspect, and recovery is scheduled.
     */
    synchronized void failed(int errno, String what) {
        failures++;
        suspect.or(unsynced);
        if (syncing != null) {
            suspect.or(syncing);
        }
        lastFailure = what + ": " + Errno.name(errno);
        stats.writebackErrors.increment();
        State before = state;
        if (state == State.CLEAN) {
            state = State.FAILED;
        }
        stats.durabilityFailed = true;
        long pages = suspect.cardinality();
        if (before == State.CLEAN || LOG.isDebugEnabled()) {
            LOG.warn("export {}: {} failed with {}; {} KiB written since the last successful sync are not proven"
                    + " durable: FLUSH and FUA answer EIO until they are written again and synced (ranges {})",
                    name, what, Errno.name(errno), (pages << pageShift) >> 10,
                    suspect.describe(1L << pageShift, 8));
        }
        backoffNanos = before == State.CLEAN ? FIRST_BACKOFF_NANOS : Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
        scheduleRecoveryLocked();
    }

    /** Runs a recovery soon, after the current back-off, on some loop. */
    private void scheduleRecoveryLocked() {
        if (kickScheduled || closed) {
            return;
        }
        kickScheduled = true;
        FileIo io = anyLoop.get();
        if (io == null) {
            return; // no loops (closing, or a unit test without them): FLUSH still drives recovery
        }
        io.loop().schedule(() -> {
            synchronized (this) {
                kickScheduled = false;
                wantRecovery = true;
            }
            maybeStart(io);
        }, Math.max(backoffNanos, 1), TimeUnit.NANOSECONDS);
    }

    /**
     * Waits for a sync that covers everything written so far; {@code waiter} learns
     * on a loop whether it all is durable. Call on {@code io}'s loop.
     */
    void sync(SyncWaiter waiter, FileIo io) {
        pacing.clientSync(System.nanoTime());
        synchronized (this) {
            if (closed) {
                waiter.synced(new PosixException("fdatasync", Errno.ESHUTDOWN, "export " + name + " is closed"));
                return;
            }
            waiting.add(waiter);
        }
        maybeStart(io);
    }

    /**
     * Asks for a sync without a waiter, when the current epoch is older than
     * {@code intervalNanos}: it bounds what an I/O error can put in doubt and what
     * the next FLUSH has to write. Any thread.
     */
    /** Whether anything was written since the last successful sync started. Any thread. */
    boolean writtenSinceSync() {
        return epochStartNanos != 0;
    }

    void backgroundSync(long intervalNanos) {
        long start = epochStartNanos;
        if (start == 0 || System.nanoTime() - start < intervalNanos) {
            return;
        }
        FileIo io = anyLoop.get();
        if (io == null) {
            return;
        }
        synchronized (this) {
            if (syncRunning || wantSync || closed) {
                return;
            }
            wantSync = true;
        }
        io.loop().execute(() -> maybeStart(io));
    }

    /** Starts a recovery or a sync if one is wanted and none is running. On {@code io}'s loop. */
    void maybeStart(FileIo io) {
        boolean startRecovery = false;
        boolean startSync = false;
        synchronized (this) {
            if (syncRunning || recoveryRunning || closed) {
                return;
            }
            boolean waiters = !waiting.isEmpty();
            if (state != State.CLEAN && !suspect.isEmpty() && (recoveredGeneration != failures || suspectGrew)
                    && (waiters || wantRecovery || wantSync)) {
                recoveryRunning = true;
                wantRecovery = false;
                suspectGrew = false;
                recoveredGeneration = failures;
                startRecovery = true;
            } else if (waiters || wantSync) {
                wantSync = false;
                syncRunning = true;
                ArrayDeque<SyncWaiter> w = batch;
                batch = waiting;
                waiting = w;
                syncGeneration = failures;
                syncCleans = suspect.isEmpty() && lost.isEmpty();
                // The epoch swap: pages written from now on belong to the next sync. A
                // writer that read the old map before the swap and marks it after is
                // still covered: its data was in the page cache before it marked.
                syncing = unsynced;
                unsynced = spare;
                spare = null;
                epochStartNanos = 0;
                startSync = true;
            }
        }
        if (startRecovery) {
            try {
                recovery.recover(this, io);
            } catch (RuntimeException e) {
                LOG.error("export {}: the recovery failed to start", name, e);
                recoveryFinished(io);
            }
        } else if (startSync) {
            try {
                io.fdatasync(syncFd, syncCompletion);
            } catch (RuntimeException e) {
                LOG.error("export {}: the sync failed to start", name, e);
                syncDone(-Errno.EIO);
            }
        }
    }

    private void syncDone(long result) {
        FileIo io = anyLoop.get();
        Throwable failure;
        synchronized (this) {
            PageBitmap proven = syncing;
            syncing = null;
            if (result < 0) {
                // Still unproven: back into the current epoch, and suspect.
                unsynced.or(proven);
                failed((int) -result, "fdatasync");
            } else if (syncCleans && syncGeneration == failures && state != State.CLEAN) {
                state = State.CLEAN;
                stats.durabilityFailed = false;
                backoffNanos = 0;
                LOG.info("export {}: durability restored: the data in doubt after '{}' was written again and synced",
                        name, lastFailure);
            }
            proven.clear();
            spare = proven;
            if (result < 0) {
                failure = new PosixException("fdatasync", (int) -result, "export " + name);
            } else if (state != State.CLEAN) {
                failure = new DurabilityException(refusal());
            } else {
                failure = null;
            }
        }
        // The batch stays this sync's until syncRunning drops: no one else touches it meanwhile.
        for (SyncWaiter w : batch) {
            try {
                w.synced(failure);
            } catch (RuntimeException e) {
                LOG.error("export {}: a sync waiter failed", name, e);
            }
        }
        synchronized (this) {
            batch.clear();
            syncRunning = false;
        }
        if (io != null) {
            maybeStart(io);
        }
    }

    /** Why FLUSH and FUA are refused now, for the client and the log. */
    private String refusal() {
        if (state == State.LOST) {
            return "export " + name + ": data acknowledged earlier was lost after a write-back error (" + lastFailure
                    + "): " + (lost.cardinality() << pageShift >> 10) + " KiB at " + lost.describe(1L << pageShift, 4)
                    + "; overwrite it or reload the export";
        }
        return "export " + name + ": an earlier write-back error (" + lastFailure
                + ") put acknowledged data in doubt; it has not been written again and synced yet";
    }

    // ---- called by the recovery ----

    /**
     * The suspect pages of {@code [firstPage, firstPage + count)} that recovery
     * should rewrite: the first run at or after {@code fromPage}, as {start, end},
     * or null when none is left before {@code limitPage}.
     */
    synchronized long[] nextSuspectRun(long fromPage, long limitPage) {
        long start = suspect.nextSet(fromPage);
        if (start < 0 || start >= limitPage) {
            return null;
        }
        return new long[] {start, Math.min(limitPage, suspect.nextClear(start))};
    }

    /** The first suspect page at or after {@code fromPage}, or -1. */
    synchronized long nextSuspect(long fromPage) {
        return suspect.nextSet(fromPage);
    }

    /** Recovery wrote pages {@code [first, end)} again: they are dirty in the page cache once more. */
    synchronized void rewritten(long first, long end) {
        suspect.clear(first, end - first);
        unsynced.set(first, end - first);
        if (epochStartNanos == 0) {
            epochStartNanos = System.nanoTime();
        }
    }

    /** Recovery could not write pages {@code [first, end)} again (gone from memory, or the write failed). */
    synchronized void lost(long first, long end, String why) {
        suspect.clear(first, end - first);
        lost.set(first, end - first);
        if (state != State.LOST) {
            state = State.LOST;
            LOG.error("export {}: {} KiB acknowledged before '{}' could not be written again ({}): {}; FLUSH and FUA"
                    + " answer EIO until the client overwrites them or the export is reloaded", name,
                    ((end - first) << pageShift) >> 10, lastFailure, why, lost.describe(1L << pageShift, 8));
        }
    }

    /** The recovery pass is over; a sync may now prove the file clean. On a loop. */
    void recoveryFinished(FileIo io) {
        synchronized (this) {
            recoveryRunning = false;
            if (state != State.CLEAN) {
                wantSync = true; // prove it, even if no client asks
            }
        }
        maybeStart(io);
    }

    /** Stops scheduling work; waiters of a sync in flight are still answered. */
    synchronized void close() {
        closed = true;
        for (SyncWaiter w : waiting) {
            w.synced(new PosixException("fdatasync", Errno.ESHUTDOWN, "export " + name + " is closed"));
        }
        waiting.clear();
    }

    /** A one-line summary for logs and /readyz. */
    synchronized String describe() {
        switch (state) {
            case CLEAN:
                return "clean";
            case FAILED:
                return "failed (" + lastFailure + "): " + (suspect.cardinality() << pageShift >> 10)
                        + " KiB to write again";
            default:
                return refusal();
        }
    }
}
