package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.bufcached.daemon.export.BlockStore;
import org.bufcached.daemon.export.Descriptors;
import org.bufcached.daemon.export.IoCallback;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;
import org.bufcached.protocol.NbdError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An export's storage served through the buffer cache. READ hits are answered on
 * the event loop from the buffers' mapped memory, without a copy; misses page in
 * on an I/O worker (bread) and finish on the event loop. WRITE copies the payload
 * into the buffers and leaves them delayed-write (bdwrite) for the flush daemons;
 * a writer past the dirty high mark has its reply held back (bd_wait) until the
 * daemons catch up. FLUSH is fdatasync of the file: the page cache, not the
 * buffers' dirty bits, decides what is durable.
 */
public final class CachedStore implements BlockStore {
    private static final Logger LOG = LoggerFactory.getLogger(CachedStore.class);

    private final BufCache cache;
    private final CachedFile file;
    private final Executor workers;
    private final long bsize;

    public CachedStore(BufCache cache, CachedFile file, Executor workers) {
        this.cache = cache;
        this.file = file;
        this.bsize = cache.bufferSize();
        // Every task on an I/O worker is bracketed as a period of the thread's own,
        // so retired windows wait for it.
        this.workers = task -> workers.execute(() -> {
            WorkerThreads threads = cache.threads;
            threads.enter();
            try {
                task.run();
            } finally {
                threads.exit();
            }
        });
    }

    public CachedFile file() {
        return file;
    }

    @Override
    public FileStats stats() {
        return file.stats();
    }

    /** Bytes of block {@code blkno}: the buffer size, less for the file's last block. */
    private long blockLength(long blkno) {
        return Math.min(bsize, file.size() - blkno * bsize);
    }

    @Override
    public long size() {
        return file.size();
    }

    /** Where continuations of a request run: its event loop, or a worker when called from elsewhere. */
    private Executor home() {
        Executor loop = ThreadExecutorMap.currentExecutor();
        return loop != null ? loop : workers;
    }

    // ------------------------------------------------------------------ READ

    @Override
    public void read(long offset, int length, IoCallback done) {
        if (length == 0) {
            done.succeeded(Unpooled.EMPTY_BUFFER);
            return;
        }
        if (file.readAhead.covers(offset)) {
            cache.readAheadHits.increment();
        }
        new ReadOp(offset, length, done, home()).run();
        long[] ahead = file.readAhead.observe(offset, length, file.size());
        if (ahead != null) {
            cache.readAheadIssued.increment();
            workers.execute(() -> willNeed(ahead[0], ahead[1]));
        }
    }

    /** Read-ahead: the kernel starts reading the range in; no buffer is taken for it. */
    private void willNeed(long offset, long length) {
        long end = offset + length;
        long windowSize = cache.kva.windowSize();
        for (long at = offset; at < end; ) {
            long stop = Math.min(end, (at / windowSize + 1) * windowSize);
            try {
                Window w = file.acquireWindow(at);
                try {
                    w.mapping().willNeed(at - w.mapping().fileOffset(), stop - at);
                } finally {
                    w.refs.decrementAndGet();
                }
            } catch (PosixException e) {
                LOG.debug("read-ahead of {} at {} failed: {}", file, at, e.getMessage());
                return;
            }
            at = stop;
        }
    }

    /** bread over a range: block by block, hits at once, each miss paged in on a worker. */
    private final class ReadOp implements Runnable {
        private final long end;
        private final IoCallback done;
        private final Executor home;
        private long pos;
        private ByteBuf single;
        private CompositeByteBuf composite;

        ReadOp(long offset, int length, IoCallback done, Executor home) {
            this.pos = offset;
            this.end = offset + length;
            this.done = done;
            this.home = home;
        }

        @Override
        public void run() {
            try {
                while (pos < end) {
                    if (file.closed()) {
                        fail(SHUT_DOWN);
                        return;
                    }
                    long blkno = pos / bsize;
                    Buf bp = cache.getcacheblk(file, blkno, need(blkno, pos));
                    if (bp != null) {
                        cache.hits.increment();
                        file.stats.hits.increment();
                        append(bp);
                        continue;
                    }
                    cache.misses.increment();
                    file.stats.misses.increment();
                    bp = cache.getblk(file, blkno, () -> home.execute(this));
                    if (bp == null) {
                        // Parked. Let go of the buffers this read holds, or a read larger
                        // than the free space would wait for itself.
                        consolidate();
                        return;
                    }
                    if ((bp.valid & need(blkno, pos)) == need(blkno, pos)) {
                        cache.bqhold(bp);
                        cache.bqrelse(bp);
                        append(bp);
                        continue;
                    }
                    pageIn(missesFrom(bp));
                    return;
                }
            } catch (PosixException | RuntimeException e) {
                fail(e);
                return;
            }
            ByteBuf data = composite != null ? composite : single;
            single = null;
            composite = null;
            done.succeeded(data);
        }

        /** The pages of block {@code blkno} that a read from {@code at} to the end needs. */
        private long need(long blkno, long at) {
            long inBlock = at - blkno * bsize;
            return cache.pages(inBlock, Math.min(end - at, blockLength(blkno) - inBlock));
        }

        /**
         * The locked buffer {@code first} and the following blocks that also miss,
         * locked without waiting: one trip to a worker pages them all in.
         */
        private List<Buf> missesFrom(Buf first) throws PosixException {
            List<Buf> batch = new ArrayList<>(4);
            batch.add(first);
            for (long at = (first.blkno + 1) * bsize; at < end; at += bsize) {
                long blkno = at / bsize;
                Buf held = cache.getcacheblk(file, blkno, need(blkno, at));
                if (held != null) {
                    cache.bqdrop(held);
                    break;
                }
                Buf bp = cache.getblk(file, blkno, null);
                if (bp == null) {
                    break;
                }
                batch.add(bp);
            }
            return batch;
        }

        /** The misses: fault the missing pages in on a worker, never on the event loop. */
        private void pageIn(List<Buf> batch) {
            workers.execute(() -> {
                Exception error = null;
                int good = 0;
                for (Buf bp : batch) {
                    long need = need(bp.blkno, Math.max(pos, bp.loffset));
                    try {
                        if (error == null) {
                            cache.kvabio.bkvasync(bp);
                            long missing = need & ~bp.valid;
                            if (missing != 0) {
                                long from = Long.numberOfTrailingZeros(missing) * cache.validUnit;
                                long to = Math.min(bp.size, (64 - Long.numberOfLeadingZeros(missing)) * cache.validUnit);
                                bp.windowRef.mapping().populateRead(bp.windowOffset() + from, to - from);
                            }
                            cache.validate(bp, need);
                        }
                    } catch (PosixException | RuntimeException e) {
                        error = e;
                        bp.setFlags(Buf.B_INVAL);
                    }
                    if (error == null) {
                        cache.bqhold(bp); // so no getnewbuf can take it before the reply is built
                        good++;
                    }
                    cache.brelse(bp);
                }
                Exception failure = error;
                int paged = good;
                home.execute(() -> {
                    for (int i = 0; i < paged; i++) {
                        append(batch.get(i));
                    }
                    if (failure != null) {
                        fail(failure);
                    } else {
                        run();
                    }
                });
            });
        }

        /** Adds the part of the held buffer that the read covers; the hold moves to the slice. */
        private void append(Buf bp) {
            cache.kvabio.bkvasync(bp);
            long inBlock = pos - bp.loffset;
            int n = (int) Math.min(end - pos, bp.size - inBlock);
            ByteBuf slice = new HeldSlice(cache, bp, bp.windowRef.mapping().byteBuffer(bp.windowOffset() + inBlock, n));
            pos += n;
            if (single == null && composite == null) {
                single = slice;
            } else {
                if (composite == null) {
                    composite = ByteBufAllocator.DEFAULT.compositeDirectBuffer(Integer.MAX_VALUE);
                    composite.addComponent(true, single);
                    single = null;
                }
                composite.addComponent(true, slice);
            }
        }

        /** Copies what the read has gathered out of the buffers, dropping their holds. */
        private void consolidate() {
            ByteBuf held = composite != null ? composite : single;
            if (held == null) {
                return;
            }
            ByteBuf copy = ByteBufAllocator.DEFAULT.directBuffer((int) (end - pos) + held.readableBytes());
            copy.writeBytes(held);
            held.release();
            single = copy;
            composite = null;
        }

        private void fail(Exception e) {
            if (single != null) {
                single.release();
            }
            if (composite != null) {
                composite.release();
            }
            failed(done, e);
        }
    }

    // ------------------------------------------------------------------ WRITE

    @Override
    public void write(long offset, ByteBuf data, boolean fua, IoCallback done) {
        new WriteOp(offset, data, fua, done, home()).run();
    }

    /** getblk, copy in, bdwrite, block by block; a block not yet paged in is filled on a worker. */
    private final class WriteOp implements Runnable {
        private final long start;
        private final long end;
        private final ByteBuf data;
        private final boolean fua;
        private final IoCallback done;
        private final Executor home;
        private long pos;

        WriteOp(long offset, ByteBuf data, boolean fua, IoCallback done, Executor home) {
            this.start = offset;
            this.pos = offset;
            this.end = offset + data.readableBytes();
            this.data = data;
            this.fua = fua;
            this.done = done;
            this.home = home;
        }

        @Override
        public void run() {
            try {
                while (pos < end) {
                    if (file.closed()) {
                        finish(SHUT_DOWN);
                        return;
                    }
                    Buf bp = cache.getblk(file, pos / bsize, () -> home.execute(this));
                    if (bp == null) {
                        return; // parked: resumes here
                    }
                    writeThrough(following(bp));
                    return;
                }
            } catch (PosixException | RuntimeException e) {
                finish(e);
                return;
            }
            finish(null);
        }

        /** Bytes of the write that fall in {@code bp} from {@code at}. */
        private int span(Buf bp, long at) {
            return (int) Math.min(end - at, bp.size - (at - bp.loffset));
        }

        /** The pages of {@code bp} that the write covers from {@code at}. */
        private long need(Buf bp, long at) {
            return cache.pages(at - bp.loffset, span(bp, at));
        }

        /**
         * The locked buffer {@code first} and the following blocks of the write that
         * can be locked without waiting: one pwrite covers them all. Locks are taken
         * in block order and never waited for while others are held, so two writes
         * cannot deadlock, and a write larger than the cache proceeds in parts.
         */
        private List<Buf> following(Buf first) throws PosixException {
            List<Buf> batch = new ArrayList<>(4);
            batch.add(first);
            for (long at = first.loffset + first.size; at < end; at += bsize) {
                Buf bp = cache.getblk(file, at / bsize, null);
                if (bp == null) {
                    break;
                }
                batch.add(bp);
            }
            return batch;
        }

        /**
         * The data goes in with one pwrite on a worker, not a copy into the mapping on
         * the event loop: workers write in parallel, the kernel reads only partial
         * pages, a page being written back costs no fault on an event loop, and a full
         * disk is an error rather than SIGBUS. The pages written are then in the page
         * cache, valid for the next read.
         */
        private void writeThrough(List<Buf> batch) {
            workers.execute(() -> {
                Buf last = batch.get(batch.size() - 1);
                int n = (int) (Math.min(end, last.loffset + last.size) - pos);
                try {
                    int index = data.readerIndex() + (int) (pos - start);
                    if (data.hasMemoryAddress()) {
                        file.backing().pwrite(data.memoryAddress() + index, n, pos);
                    } else {
                        ByteBuf direct = ByteBufAllocator.DEFAULT.directBuffer(n);
                        try {
                            direct.writeBytes(data, index, n);
                            file.backing().pwrite(direct.memoryAddress(), n, pos);
                        } finally {
                            direct.release();
                        }
                    }
                    for (Buf bp : batch) {
                        long at = Math.max(pos, bp.loffset);
                        long need = need(bp, at);
                        cache.validate(bp, need);
                        cache.bdwrite(bp, need);
                    }
                    pos += n;
                    home.execute(this);
                } catch (PosixException | RuntimeException e) {
                    batch.forEach(cache::brelse);
                    home.execute(() -> finish(e));
                }
            });
        }

        private void finish(Exception error) {
            data.release();
            if (error != null) {
                failed(done, error);
                return;
            }
            if (fua) {
                workers.execute(() -> {
                    try {
                        file.backing().fdatasync();
                        throttle(done);
                    } catch (PosixException e) {
                        done.failed(NbdError.fromErrno(e.errno()), e.getMessage());
                    }
                });
            } else {
                throttle(done);
            }
        }
    }


    /** Fails the request with ESHUTDOWN if the export was closed while it waited for a worker. */
    private boolean refusedAfterClose(IoCallback done) {
        if (file.closed()) {
            failed(done, SHUT_DOWN);
            return true;
        }
        return false;
    }

    /** A request that meets the export closed (removed by a reload, or shutdown). */
    private static final IllegalStateException SHUT_DOWN = new IllegalStateException("export closed");

    /** Reports a failure: the errno of a failed call, ESHUTDOWN after close, or EIO (and a log line) for a bug. */
    private void failed(IoCallback done, Exception e) {
        if (e == SHUT_DOWN) {
            done.failed(NbdError.ESHUTDOWN, "the export was closed");
        } else if (e instanceof PosixException) {
            done.failed(NbdError.fromErrno(((PosixException) e).errno()), e.getMessage());
        } else {
            LOG.error("request on {} failed", file, e);
            done.failed(NbdError.EIO, "internal error: " + e);
        }
    }

    /** bd_wait: a writer past the dirty mid-point gets its reply once the flushers retired its share. */
    private void throttle(IoCallback done) {
        long excess = cache.space.bd_heatup();
        cache.space.bd_wait(excess, () -> done.succeeded(null));
    }

    // ------------------------------------------------------------------ FLUSH, TRIM, ZERO

    @Override
    public void flush(IoCallback done) {
        workers.execute(() -> {
            if (refusedAfterClose(done)) {
                return;
            }
            try {
                file.backing().fdatasync();
                done.succeeded(null);
            } catch (PosixException e) {
                done.failed(NbdError.fromErrno(e.errno()), e.getMessage());
            }
        });
    }

    @Override
    public void trim(long offset, long length, boolean fua, IoCallback done) {
        changeRange(offset, length, fua, done, () -> {
            try {
                file.backing().punchHole(offset, length);
            } catch (PosixException e) {
                if (e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
                // TRIM is advisory: a file system without holes keeps the data.
            }
            return null;
        });
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua, IoCallback done) {
        changeRange(offset, length, fua, done, () -> {
            if (zeroByFallocate(offset, length, noHole)) {
                return null;
            }
            if (fastZero) {
                return NbdError.ENOTSUP;
            }
            writeZeroBuffers(offset, length);
            return null;
        });
    }

    /** A change of the file itself, on a worker, after the overlapping buffers were invalidated. */
    @FunctionalInterface
    private interface FileChange {
        NbdError apply() throws PosixException;
    }

    private void changeRange(long offset, long length, boolean fua, IoCallback done, FileChange change) {
        workers.execute(() -> {
            if (refusedAfterClose(done)) {
                return;
            }
            try {
                if (length > 0) {
                    cache.invalidateRange(file, offset / bsize, (offset + length - 1) / bsize);
                }
                NbdError refused = change.apply();
                if (refused != null) {
                    done.failed(refused, "the file system cannot zero faster than writing");
                    return;
                }
                if (fua) {
                    file.backing().fdatasync();
                }
                done.succeeded(null);
            } catch (PosixException e) {
                done.failed(NbdError.fromErrno(e.errno()), e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                done.failed(NbdError.ESHUTDOWN, "interrupted");
            }
        });
    }

    /** Zeroes with fallocate; false when the file system supports neither way. */
    private boolean zeroByFallocate(long offset, long length, boolean noHole) throws PosixException {
        if (!noHole) {
            try {
                file.backing().punchHole(offset, length);
                return true;
            } catch (PosixException e) {
                if (e.errno() != Errno.EOPNOTSUPP) {
                    throw e;
                }
            }
        }
        try {
            file.backing().zeroRange(offset, length);
            return true;
        } catch (PosixException e) {
            if (e.errno() != Errno.EOPNOTSUPP) {
                throw e;
            }
            return false;
        }
    }

    private void writeZeroBuffers(long offset, long length) throws PosixException {
        int chunk = 1 << 20;
        ByteBuf zeroes = ByteBufAllocator.DEFAULT.directBuffer(chunk);
        try {
            zeroes.writeZero(chunk);
            for (long n = 0; n < length; ) {
                int step = (int) Math.min(chunk, length - n);
                file.backing().pwrite(zeroes.memoryAddress(), step, offset + n);
                n += step;
            }
        } finally {
            zeroes.release();
        }
    }

    // ------------------------------------------------------------------ CACHE, BLOCK_STATUS

    @Override
    public void cache(long offset, long length, IoCallback done) {
        workers.execute(() -> {
            prime(offset, length);
            done.succeeded(null);
        });
    }

    /**
     * NBD_CMD_CACHE: each block of the range not yet cached gets a buffer, paged
     * in, left CLEAN. Stops early rather than wait for a buffer or push the working
     * set out (above lobufspace): the command is advisory.
     */
    private void prime(long offset, long length) {
        long end = Math.min(file.size(), offset + length);
        for (long blkno = offset / bsize; blkno * bsize < end; blkno++) {
            if (cache.space.bufspace.get() >= cache.space.lobufspace) {
                return;
            }
            try {
                Buf bp = cache.getblk(file, blkno, null);
                if (bp == null) {
                    return;
                }
                if (!bp.isSet(Buf.B_CACHE)) {
                    cache.kvabio.bkvasync(bp);
                    bp.windowRef.mapping().populateRead(bp.windowOffset(), bp.size);
                    cache.validate(bp, cache.allPages(bp));
                }
                cache.bqrelse(bp);
            } catch (PosixException e) {
                LOG.debug("priming {} at block {} failed: {}", file, blkno, e.getMessage());
                return;
            }
        }
    }

    @Override
    public void blockStatus(long offset, long length, int maxExtents, IoCallback done) {
        workers.execute(() -> {
            if (refusedAfterClose(done)) {
                return;
            }
            try {
                long[] extents = file.backing().extents(offset, Math.max(length, 1), maxExtents);
                done.succeeded(Descriptors.encode(ByteBufAllocator.DEFAULT, extents, file.size() - offset));
            } catch (PosixException e) {
                done.failed(NbdError.fromErrno(e.errno()), e.getMessage());
            }
        });
    }

    /** Drops the file's buffers and windows, makes everything durable and closes the file. */
    @Override
    public void close() {
        try {
            cache.invalidateFile(file);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            file.backing().fdatasync();
        } catch (PosixException e) {
            LOG.error("fdatasync of {} failed at close: {}", file, e.getMessage());
        }
        try {
            file.backing().close();
        } catch (PosixException e) {
            LOG.error("close of {} failed: {}", file, e.getMessage());
        }
        cache.reclaimWindows();
    }
}
