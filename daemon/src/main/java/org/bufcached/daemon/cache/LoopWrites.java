package org.bufcached.daemon.cache;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.bufcached.daemon.store.KernelDirty;
import org.bufcached.daemon.store.PageCacheWrites;

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
 */
final class LoopWrites {
    /** Larger writes keep the loop busy long enough for the workers' parallelism to pay. */
    static final int MAX_LENGTH = 64 * 1024;

    private final boolean possible;
    private final long alignMask;
    private final BooleanSupplier belowDirtyBackground;
    /** Writes and fallocates of the file handed to the workers and not completed yet. */
    private final AtomicInteger atWorkers = new AtomicInteger();

    LoopWrites(PageCacheWrites kernel) {
        this(kernel, KernelDirty::belowBackground);
    }

    LoopWrites(PageCacheWrites kernel, BooleanSupplier belowDirtyBackground) {
        this.possible = !kernel.mayWaitForDisk();
        this.alignMask = kernel.alignment() - 1;
        this.belowDirtyBackground = belowDirtyBackground;
    }

    /** Whether {@code length} bytes at {@code offset} may be written on the loop now. */
    boolean allow(long offset, int length) {
        return possible && length <= MAX_LENGTH && ((offset | length) & alignMask) == 0 && atWorkers.get() == 0
                && belowDirtyBackground.getAsBoolean();
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
