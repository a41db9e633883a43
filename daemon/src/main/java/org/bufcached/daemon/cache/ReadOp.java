package org.bufcached.daemon.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.Recycler;
import java.util.ArrayList;
import org.bufcached.daemon.io.DataBuffers;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.PosixException;

/**
 * bread over a range, block by block. A hit is the buffer's mapped memory itself,
 * held until the socket has sent it ({@link HeldSlice}, no copy). A run of misses
 * is locked together and read with one read from the file into a pooled buffer on
 * the loop's file I/O: the pages land in the page cache, the buffers become valid
 * for later hits, and a failing disk is an EIO for this request, never a fault on
 * the loop.
 */
final class ReadOp extends CacheOp {
    private static final Recycler<ReadOp> RECYCLER = new Recycler<>() {
        @Override
        protected ReadOp newObject(Handle<ReadOp> handle) {
            return new ReadOp(handle);
        }
    };

    private final Recycler.Handle<ReadOp> handle;
    private final ArrayList<Buf> batch = new ArrayList<>(8);
    private long pos;
    private long end;
    private ByteBuf single;
    private CompositeByteBuf composite;
    /** The read of a run of misses: into {@link #missData}, {@link #missDone} of {@link #missLength} so far. */
    private ByteBuf missData;
    private int missLength;
    private int missDone;

    private ReadOp(Recycler.Handle<ReadOp> handle) {
        this.handle = handle;
    }

    static void start(BufCache cache, CachedFile file, FileIo io, long offset, int length, CacheCallback callback) {
        if (length == 0) {
            callback.done(Unpooled.EMPTY_BUFFER);
            return;
        }
        ReadOp op = RECYCLER.get();
        op.init(cache, file, io, callback);
        op.pos = offset;
        op.end = offset + length;
        op.run();
    }

    @Override
    void step() throws PosixException, CacheClosedException {
        long bsize = cache.space.bufferSize;
        while (pos < end) {
            if (file.closed()) {
                throw CacheClosedException.INSTANCE;
            }
            if (end > file.fileEnd()) {
                throw shrunk();
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
            bp = cache.getblk(file, blkno, resume);
            if (bp == null) {
                // Parked. Let go of the buffers this read holds, or a read larger than
                // the free space would wait for itself.
                consolidate();
                waiting(CacheOp.BUFFER);
                return;
            }
            if ((bp.valid & need(blkno, pos)) == need(blkno, pos)) {
                cache.bqhold(bp);
                cache.bqrelse(bp);
                append(bp);
                continue;
            }
            missesFrom(bp);
            Buf last = batch.get(batch.size() - 1);
            missLength = (int) (Math.min(end, last.loffset + last.size) - pos);
            missDone = 0;
            missData = DataBuffers.ALLOC.directBuffer(missLength);
            submitRead();
            return;
        }
        ByteBuf data = composite != null ? composite : single;
        single = null;
        composite = null;
        CacheCallback cb = callback;
        recycle();
        cb.done(data);
    }

    private void submitRead() {
        waiting(CacheOp.FILE_READ);
        io.read(file.fd, missData.memoryAddress() + missDone, missLength - missDone, pos + missDone, 0, this);
    }

    @Override
    void completed(long result) throws Exception {
        if (result < 0) {
            PosixException e = failure("read", result, file, pos + missDone, missLength - missDone);
            for (Buf bp : batch) {
                bp.setFlags(Buf.B_INVAL);
                cache.brelse(bp);
            }
            batch.clear();
            throw e;
        }
        if (result == 0) {
            // The file ends before the export does: someone cut it short. Tell the cache now,
            // not at the flushers' next look, so that no hit is served past the new end.
            for (Buf bp : batch) {
                bp.setFlags(Buf.B_INVAL);
                cache.brelse(bp);
            }
            batch.clear();
            file.checkSoon(cache, io);
            throw shrunk();
        }
        missDone += (int) result;
        if (missDone < missLength) {
            submitRead();
            return;
        }
        // The pages are in the page cache now: the buffers know it, and go back clean.
        for (Buf bp : batch) {
            long at = Math.max(pos, bp.loffset);
            cache.validate(bp, need(bp.blkno, at));
            cache.bqrelse(bp);
        }
        batch.clear();
        ByteBuf data = missData.writerIndex(missLength);
        missData = null;
        pos += missLength;
        add(data);
        step();
    }

    private PosixException shrunk() {
        return new PosixException("read", Errno.EIO, "export " + file.name() + ": the backing file "
                + file.backing().path() + " ends at " + file.fileEnd() + ", before " + end
                + " (it was cut short while exported)");
    }

    /** The pages of block {@code blkno} that a read from {@code at} to the end needs. */
    private long need(long blkno, long at) {
        long bsize = cache.space.bufferSize;
        long inBlock = at - blkno * bsize;
        long blockLength = Math.min(bsize, file.size() - blkno * bsize);
        return cache.pages(inBlock, Math.min(end - at, blockLength - inBlock));
    }

    /**
     * The locked buffer {@code first} and the following blocks that also miss,
     * locked without waiting: one read brings them all in.
     */
    private void missesFrom(Buf first) throws PosixException {
        long bsize = cache.space.bufferSize;
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
    }

    /** Adds the part of the held buffer that the read covers; the hold moves to the slice. */
    private void append(Buf bp) {
        cache.kvabio.bkvasync(bp);
        long inBlock = pos - bp.loffset;
        int n = (int) Math.min(end - pos, bp.size - inBlock);
        pos += n;
        add(HeldSlice.of(cache, bp, bp.windowOffset() + inBlock, n));
    }

    private void add(ByteBuf part) {
        if (single == null && composite == null) {
            single = part;
            return;
        }
        if (composite == null) {
            composite = DataBuffers.ALLOC.compositeDirectBuffer(Integer.MAX_VALUE);
            composite.addComponent(true, single);
            single = null;
        }
        composite.addComponent(true, part);
    }

    /** Copies what the read has gathered out of the buffers, dropping their holds. */
    private void consolidate() {
        ByteBuf held = composite != null ? composite : single;
        if (held == null) {
            return;
        }
        ByteBuf copy = DataBuffers.ALLOC.directBuffer((int) (end - pos) + held.readableBytes());
        copy.writeBytes(held);
        held.release();
        single = copy;
        composite = null;
    }

    @Override
    void abort(Throwable cause) {
        if (single != null) {
            single.release();
        }
        if (composite != null) {
            composite.release();
        }
        if (missData != null) {
            missData.release();
        }
        for (Buf bp : batch) {
            bp.setFlags(Buf.B_INVAL);
            cache.brelse(bp);
        }
        batch.clear();
        single = null;
        composite = null;
        missData = null;
        CacheCallback cb = callback;
        recycle();
        cb.failed(cause);
    }

    private void recycle() {
        cache = null;
        file = null;
        io = null;
        callback = null;
        handle.recycle(this);
    }
}
