package org.bufcached.daemon.cache;

import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.PosixException;
import org.bufcached.daemon.store.Syscalls;

/**
 * One operation of the cache on one file, run as a continuation on its event
 * loop: the seed's sleeps become parks. {@link #run} takes the next step (at the
 * start, and whenever what it parked on lets it go); {@link #complete} takes the
 * result of its file I/O. Whatever either throws fails the operation, so every
 * path answers its request.
 *
 * <p>Confined to its loop between steps: parks wake it through {@link #resume},
 * which hops back onto the loop from whichever thread released what it waited for.
 */
abstract class CacheOp implements Runnable, IoCompletion {
    BufCache cache;
    CachedFile file;
    FileIo io;
    CacheCallback callback;
    /** Re-runs the operation on its loop; handed to whatever it parks on. Made once per pooled object. */
    final Runnable resume = () -> io.loop().execute(this);
    /** A write or fallocate of this operation is at the engine's workers: the file's writes stay off the loops. */
    private boolean atWorkers;

    void init(BufCache cache, CachedFile file, FileIo io, CacheCallback callback) {
        this.cache = cache;
        this.file = file;
        this.io = io;
        this.callback = callback;
    }

    @Override
    public final void run() {
        try {
            step();
        } catch (Throwable t) {
            abort(t);
        }
    }

    @Override
    public final void complete(long result) {
        try {
            completed(result);
        } catch (Throwable t) {
            abort(t);
        }
    }

    /** The next step: runs until it parks, submits I/O, or finishes. */
    abstract void step() throws Exception;

    /** The result of the file I/O the last step submitted. */
    abstract void completed(long result) throws Exception;

    /** Lets go of everything held, then fails the operation with {@code cause}. */
    abstract void abort(Throwable cause);

    // What an operation waits for, for the stuck-request report: constants, so that
    // saying it costs nothing (the request's command, offset and length are known).
    static final String BUFFER = "a buffer (locked by another request, or none free)";
    static final String BUFFER_LOCK = "a buffer locked by another request";
    static final String FILE_READ = "a read from the file";
    static final String FILE_WRITE = "a write to the file";
    static final String FILE_CHANGE = "fallocate on the file";
    static final String SYNC = "an fdatasync of the file";
    static final String THROTTLE = "write-back to catch up (dirty data above the high mark)";

    /** The write or fallocate about to be submitted goes to the workers ({@link LoopWrites#enterWorkers}). */
    final void enterWorkers() {
        file.loopWrites.enterWorkers();
        atWorkers = true;
    }

    /** It came back, or never reached them (the engine threw); nothing when none is there. */
    final void leftWorkers() {
        if (atWorkers) {
            atWorkers = false;
            file.loopWrites.leaveWorkers();
        }
    }

    /** Marks the wait for the stuck-request report. */
    final void waiting(String what) {
        callback.waiting(what);
    }

    /**
     * How many pages of the locked buffer {@code bp}, from the page at
     * {@code offset} for {@code length} bytes, are still in the page cache, counted
     * until one is not: asked through the buffer's mapping, without reading any page
     * in. Nothing of bufcached can bring one back meanwhile: the buffer is locked.
     * Negative ({@code -errno}) when the kernel cannot tell, which callers take as
     * not in memory.
     */
    static long residentPages(Buf bp, long offset, long length, int pageShift) {
        return Syscalls.residentPages(bp.data + (offset - bp.loffset), length, pageShift);
    }

    static PosixException failure(String call, long result, CachedFile file, long offset, long length) {
        return new PosixException(call, (int) -result, "export " + file.name() + ", offset=" + offset
                + ", length=" + length);
    }
}
