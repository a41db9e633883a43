package org.bufcached.daemon.io;

import io.netty.util.concurrent.EventExecutor;

/**
 * The file operations of one event loop: the seed's strategy / biodone split. A
 * loop submits the file I/O of the requests it serves here and gets each
 * {@link IoCompletion} back on itself, so a request never changes threads
 * between its arrival and its reply.
 *
 * <p>Every method must be called on {@link #loop()}. A completion never runs
 * inside the call that submitted it. Operations are not ordered with each other:
 * callers that need an order (write, then sync) wait for one completion before
 * submitting the next. Reads and writes may complete short; the caller submits
 * the rest.
 *
 * <p>Two engines implement it: {@link IoUringFileIo} submits to the loop's own
 * io_uring, so nothing leaves the loop's thread except in the kernel;
 * {@link PoolFileIo} (the fallback engine, for epoll and NIO) runs the system
 * calls on a small shared pool and posts the completion back to the loop.
 */
public interface FileIo {

    /** The event loop this instance belongs to; completions run on it. */
    EventExecutor loop();

    /** pwrite(2) of {@code length} bytes at native {@code address} to {@code offset}. */
    void write(int fd, long address, int length, long offset, IoCompletion done);

    /** preadv2(2) into native {@code address}; {@code rwFlags} as preadv2's (RWF_NOWAIT). */
    void read(int fd, long address, int length, long offset, int rwFlags, IoCompletion done);

    /** fdatasync(2). */
    void fdatasync(int fd, IoCompletion done);

    /** sync_file_range(2) with {@code SYNC_FILE_RANGE_*} {@code flags}; a {@code length} of 0 reaches the end of the file. */
    void syncFileRange(int fd, long offset, int length, int flags, IoCompletion done);

    /** fallocate(2) with {@code FALLOC_FL_*} {@code mode}. */
    void fallocate(int fd, int mode, long offset, long length, IoCompletion done);

    /** posix_fadvise(2), e.g. WILLNEED for read-ahead. */
    void fadvise(int fd, long offset, int length, int advice, IoCompletion done);

    /** madvise(2) of a mapped, page-aligned range that stays mapped until the completion. */
    void madvise(long address, int length, int advice, IoCompletion done);

    /** Runs {@code call} off the loop (no ring operation covers it); its result comes back on the loop. */
    void offload(BlockingCall call, IoCompletion done);
}
