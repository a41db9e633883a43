package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;
import io.netty.util.Recycler;
import java.util.ArrayList;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;
import org.bufcached.daemon.store.Syscalls;

/**
 * A write of a range: getblk, one pwrite of the payload for each run of blocks it
 * could lock, bdwrite; with {@code sync} (the seed's IO_SYNC, NBD's FUA) a sync of
 * the file before the answer; then bd_wait, so a writer past the dirty mid-point
 * is answered once the flushers caught up. The payload goes to the file with one
 * write from its own buffer (no copy into the mapping): the kernel reads only
 * partial pages, a page under write-back costs the loop nothing, and a full disk
 * is an error rather than SIGBUS. A small write of whole blocks is made on the loop
 * itself when nothing can make it wait ({@link LoopWrites}), the others by the
 * engine's workers.
 *
 * <p>Buffers are locked in block order and never waited for while others are
 * held, so two writes cannot deadlock and a write larger than the cache proceeds
 * in parts. They stay locked until their write completes: a read or a TRIM of the
 * same block waits, and the recovery of an I/O error never rewrites a page under
 * a client's write.
 */
final class WriteOp extends CacheOp implements Durability.SyncWaiter {
    private static final Recycler<WriteOp> RECYCLER = new Recycler<>() {
        @Override
        protected WriteOp newObject(Handle<WriteOp> handle) {
            return new WriteOp(handle);
        }
    };

    private static final int WRITING = 0;
    private static final int SYNCING = 1;
    private static final int THROTTLED = 2;

    private final Recycler.Handle<WriteOp> handle;
    private final ArrayList<Buf> batch = new ArrayList<>(8);
    /** The durability of the write's pages is settled on the loop, after the sync answered. */
    private final Runnable afterSync = this::afterSync;
    private final Runnable afterThrottle = this::finishOk;
    private long start;
    private long pos;
    private long end;
    private ByteBuf data;
    private boolean sync;
    private int phase;
    /** The run being written: {@link #runLength} bytes from {@link #pos}, {@link #runDone} of them so far. */
    private int runLength;
    private int runDone;
    private long generation;
    private Throwable syncFailure;

    private WriteOp(Recycler.Handle<WriteOp> handle) {
        this.handle = handle;
    }

    /** Writes {@code data} (owned by the operation from now on, a direct buffer) at {@code offset}. */
    static void start(BufCache cache, CachedFile file, FileIo io, long offset, ByteBuf data, boolean sync,
                      CacheCallback callback) {
        WriteOp op = RECYCLER.get();
        op.init(cache, file, io, callback);
        op.start = offset;
        op.pos = offset;
        op.end = offset + data.readableBytes();
        op.data = data;
        op.sync = sync;
        op.phase = WRITING;
        op.run();
    }

    @Override
    void step() throws Exception {
        switch (phase) {
            case WRITING:
                write();
                return;
            case SYNCING:
                afterSync();
                return;
            default:
                finishOk();
        }
    }

    private void write() throws Exception {
        long bsize = cache.space.bufferSize;
        if (pos < end) {
            if (file.closed()) {
                throw CacheClosedException.INSTANCE;
            }
            if (end > file.fileEnd()) {
                throw new PosixException("pwrite", Errno.EIO, "export " + file.name() + ": the backing file "
                        + file.backing().path() + " ends at " + file.fileEnd() + " (it was cut short while exported)");
            }
            Buf bp = cache.getblk(file, pos / bsize, resume);
            if (bp == null) {
                waiting(CacheOp.BUFFER);
                return; // parked: resumes here
            }
            following(bp);
            Buf last = batch.get(batch.size() - 1);
            runLength = (int) (Math.min(end, last.loffset + last.size) - pos);
            runDone = 0;
            generation = file.durability.generation();
            checkEdges();
            submitWrite();
            return;
        }
        data.release();
        data = null;
        if (sync) {
            phase = SYNCING;
            waiting(CacheOp.SYNC);
            file.durability.sync(this, io);
            return;
        }
        throttle();
    }

    /**
     * After an I/O error a page may be in doubt: written, failed to reach the disk,
     * and kept only in the page cache until recovery writes it again. A write that
     * covers such a page in part would have the kernel read it back from the disk if
     * it was evicted meanwhile, and the recovery would then rewrite stale data as if
     * it were the client's. So the edge pages in doubt are first proven still in
     * memory; those that are not are lost.
     */
    private void checkEdges() {
        Durability d = file.durability;
        if (d.state() == Durability.State.CLEAN) {
            return;
        }
        long pageMask = (1L << d.pageShift()) - 1;
        long firstEdge = pos & ~pageMask;
        long runEnd = pos + runLength;
        if ((pos & pageMask) != 0) {
            checkEdge(batch.get(0), firstEdge);
        }
        long lastEdge = (runEnd - 1) & ~pageMask;
        if ((runEnd & pageMask) != 0 && lastEdge != firstEdge) {
            checkEdge(batch.get(batch.size() - 1), lastEdge);
        }
    }

    private void checkEdge(Buf bp, long page) {
        Durability d = file.durability;
        if (d.suspect(page, 1)) {
            long resident = residentPages(bp, page, 1, d.pageShift());
            if (resident < 1) {
                d.lost(page >>> d.pageShift(), (page >>> d.pageShift()) + 1, resident < 0
                        ? "cannot tell whether it is in memory (" + Errno.name((int) -resident) + ")"
                        : "not in memory");
            }
        }
    }

    /** The rest of the run: on the loop when {@link LoopWrites} allows (after an I/O error, never), else at the workers. */
    private void submitWrite() throws Exception {
        long address = data.memoryAddress() + data.readerIndex() + (pos - start) + runDone;
        long at = pos + runDone;
        int length = runLength - runDone;
        if (file.loopWrites.allow(at, length) && file.durability.state() == Durability.State.CLEAN) {
            cache.loopWrites.increment();
            long started = file.loopWrites.now();
            long result = Syscalls.pwrite(file.fd, address, length, at);
            if (file.loopWrites.made(started)) {
                cache.loopWritePauses.increment();
            }
            completed(result);
            return;
        }
        waiting(CacheOp.FILE_WRITE);
        enterWorkers();
        io.write(file.fd, address, length, at, this);
    }

    /**
     * The locked buffer {@code first} and the following blocks of the write that
     * can be locked without waiting: one write covers them all.
     */
    private void following(Buf first) throws PosixException {
        long bsize = cache.space.bufferSize;
        batch.add(first);
        for (long at = first.loffset + first.size; at < end; at += bsize) {
            Buf bp = cache.getblk(file, at / bsize, null);
            if (bp == null) {
                break;
            }
            batch.add(bp);
        }
    }

    @Override
    void completed(long result) throws Exception {
        leftWorkers();
        if (result < 0) {
            // What reached the file is unknown: the buffers forget what they knew.
            PosixException e = failure("pwrite", result, file, pos + runDone, runLength - runDone);
            invalidateBatch();
            throw e;
        }
        runDone += (int) result;
        if (result == 0 || runDone < runLength) {
            if (result == 0) {
                invalidateBatch();
                throw new PosixException("pwrite", Errno.EIO, "export " + file.name() + ": wrote nothing at "
                        + (pos + runDone));
            }
            submitWrite();
            return;
        }
        // Indexed: the iterator of a for-each escaped here (JFR: one per write).
        for (int i = 0; i < batch.size(); i++) {
            Buf bp = batch.get(i);
            long at = Math.max(pos, bp.loffset);
            long mask = cache.pages(at - bp.loffset, Math.min(end, bp.loffset + bp.size) - at);
            cache.validate(bp, mask);
            cache.bdwrite(bp, mask);
        }
        batch.clear();
        file.durability.redefined(pos, runLength);
        file.durability.rewroteEdges(pos, runLength);
        file.durability.written(pos, runLength, generation);
        pos += runLength;
        write();
    }

    private void invalidateBatch() {
        for (int i = 0; i < batch.size(); i++) {
            cache.binvalidate(batch.get(i));
        }
        batch.clear();
    }

    /** On whichever loop finished the sync. */
    @Override
    public void synced(Throwable failure) {
        syncFailure = failure;
        io.loop().execute(afterSync);
    }

    private void afterSync() {
        if (syncFailure != null) {
            Throwable f = syncFailure;
            syncFailure = null;
            abort(f);
            return;
        }
        throttle();
    }

    /** bd_wait: a writer past the dirty mid-point gets its answer once the flushers retired its share. */
    private void throttle() {
        phase = THROTTLED;
        long excess = cache.space.bd_heatup();
        if (excess > 0) {
            waiting(CacheOp.THROTTLE);
        }
        cache.space.bd_wait(excess, afterThrottle);
    }

    private void finishOk() {
        CacheCallback cb = callback;
        recycle();
        cb.done(null);
    }

    @Override
    void abort(Throwable cause) {
        leftWorkers();
        if (!batch.isEmpty()) {
            invalidateBatch();
        }
        if (data != null) {
            data.release();
            data = null;
        }
        CacheCallback cb = callback;
        recycle();
        cb.failed(cause);
    }

    private void recycle() {
        cache = null;
        file = null;
        io = null;
        callback = null;
        syncFailure = null;
        handle.recycle(this);
    }
}
