package org.bufcached.daemon.cache;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.bufcached.daemon.store.KernelDirty;
import org.bufcached.daemon.store.PageCacheWrites;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a write's copy into the page cache is made on the event loop, with a
 * plain pwrite, rather than handed to the I/O engine's workers. One per file.
 *
 * <p>Why: ext4 has no asynchronous buffered writes, so io_uring punts each one to
 * an io-wq worker (the fallback engine to its pool): for a 4 KiB write the hop
 * (queueing, waking the worker, the completion) cost the loop and the worker
 * more than the copy itself, and 4 KiB random writes ran at 0.6-0.7x nbdkit's.
 * Made on the loop they cost what nbdkit's own pwrite does.
 *
 * <p>A loop must never wait for the disk, so a write is made there only when it
 * cannot: it is small ({@link #MAX_LENGTH}), covers whole blocks (the kernel reads
 * nothing), the filesystem and device never make such a write wait for I/O
 * ({@link PageCacheWrites}), the kernel is below its background dirty threshold
 * (no balance_dirty_pages throttling, {@link KernelDirty}), and no write or
 * fallocate of the file is at the workers: those hold the inode's lock, a hole
 * punch over a large range for long. One submitted by another loop between the
 * check and the pwrite delays the pwrite by that one operation at most.
 *
 * <p>Some waits no check can see: a journal handle for the inode's new mtime
 * while the journal waits for its disk, reclaim for a page, an extent block read
 * in. So a loop write that takes {@link #STALL_NANOS} or more (a copy of 64 KiB
 * takes microseconds) sends the file's writes to the workers for
 * {@link #PAUSE_NANOS}, twice as long at each pause that follows soon after (up
 * to a minute): a disk that makes them wait costs a loop a write now and then,
 * not every write. A write-back of the file that took long
 * ({@link #wroteBack}) pauses them the same way, before the first one stalls.
 */
final class LoopWrites {
    private static final Logger LOG = LoggerFactory.getLogger(LoopWrites.class);
    /** Larger writes keep the loop busy long enough for the workers' parallelism to pay. */
    static final int MAX_LENGTH = 64 * 1024;
    /**
     * A loop write this long waited for the disk. Not less: on a healthy disk the
     * new mtime waits a few milliseconds at each journal commit (every 5 s on
     * ext4), and at 5 ms those waits paused the writes every few seconds.
     */
    static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** A write-back slower than this, plus {@link #NANOS_PER_WRITEBACK_BYTE} per byte, says the disk is slow. */
    static final long SLOW_WRITEBACK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** 64 MiB/s: a large write-back may take this long per byte on a healthy disk. */
    static final long NANOS_PER_WRITEBACK_BYTE = 15;
    /** How long the file's writes then stay off the loops, the first time. */
    static final long PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A pause this soon after the last one ended is twice as long, up to {@link #MAX_PAUSE_NANOS}. */
    static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final long MAX_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(64);

    private final String name;
    private final boolean possible;
    private final long alignMask;
    private final BooleanSupplier belowDirtyBackground;
    private final LongSupplier clock;
    /** Writes and fallocates of the file handed to the workers and not completed yet. */
    private final AtomicInteger atWorkers = new AtomicInteger();
    /** Until when, on {@link #clock}, writes stay off the loops after a wait; 0 when they need not. */
    private final AtomicLong pausedUntil = new AtomicLong();
    /** Whether a pause was logged as a warning already (the later ones go to the debug log). */
    private volatile boolean warned;
    /** The current pause's length and when it began, on {@link #clock}: guarded by this. */
    private long pause;
    private long lastPause;

    LoopWrites(String name, PageCacheWrites kernel) {
        this(name, kernel, KernelDirty::belowBackground, System::nanoTime);
    }

    LoopWrites(String name, PageCacheWrites kernel, BooleanSupplier belowDirtyBackground, LongSupplier clock) {
        this.name = name;
        this.possible = !kernel.mayWaitForDisk();
        this.alignMask = kernel.alignment() - 1;
        this.belowDirtyBackground = belowDirtyBackground;
        this.clock = clock;
    }

    /** Whether {@code length} bytes at {@code offset} may be written on the loop now. */
    boolean allow(long offset, int length) {
        return possible && length <= MAX_LENGTH && ((offset | length) & alignMask) == 0 && atWorkers.get() == 0
                && !paused() && belowDirtyBackground.getAsBoolean();
    }

    /** Reads the clock only while a pause may be running. */
    private boolean paused() {
        long until = pausedUntil.get();
        if (until == 0) {
            return false;
        }
        if (clock.getAsLong() - until < 0) {
            return true;
        }
        pausedUntil.compareAndSet(until, 0); // not a newer pause's
        return false;
    }

    /** The clock, for timing a loop write. */
    long now() {
        return clock.getAsLong();
    }

    /**
     * A loop write started at {@code started} (on {@link #now}) is done; true when
     * it took long enough to pause the file's loop writes.
     */
    boolean made(long started) {
        long now = clock.getAsLong();
        long took = now - started;
        if (took < STALL_NANOS) {
            return false;
        }
        pause(now, "a write made on the event loop took " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
        return true;
    }

    /**
     * A write-back of {@code bytes} of the file took {@code took} nanoseconds; true
     * when that pauses the file's loop writes. A disk that slow makes them wait soon
     * (the journal commits to it too), so they stop before the first one stalls a loop.
     */
    boolean wroteBack(long bytes, long took) {
        if (!possible || took < SLOW_WRITEBACK_NANOS + bytes * NANOS_PER_WRITEBACK_BYTE) {
            return false;
        }
        pause(clock.getAsLong(), "a write-back of " + (bytes >> 10) + " KiB took "
                + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
        return true;
    }

    /** Starts a pause: twice the last one when they keep coming, else the first length again. */
    private synchronized void pause(long now, String why) {
        boolean again = pause != 0 && now - lastPause < pause + QUIET_NANOS;
        pause = again ? Math.min(pause * 2, MAX_PAUSE_NANOS) : PAUSE_NANOS;
        lastPause = now;
        long until = now + pause;
        pausedUntil.set(until != 0 ? until : 1); // 0 says "no pause"
        if (!warned) {
            warned = true;
            LOG.warn("export {}: {} (the disk or the filesystem made it wait); the export's writes go to the I/O"
                    + " workers for {} s, longer while such waits keep coming (bufcached_cache_loop_write_pauses_total"
                    + " counts them)", name, why, TimeUnit.NANOSECONDS.toSeconds(pause));
        } else {
            LOG.debug("export {}: {}; writes go to the workers for {} ms", name, why,
                    TimeUnit.NANOSECONDS.toMillis(pause));
        }
    }

    /** A write or fallocate of the file goes to the workers: no loop write until it {@linkplain #leaveWorkers left}. */
    void enterWorkers() {
        atWorkers.incrementAndGet();
    }

    void leaveWorkers() {
        atWorkers.decrementAndGet();
    }

    /** Writes and fallocates of the file at the workers now. */
    int atWorkers() {
        return atWorkers.get();
    }
}
