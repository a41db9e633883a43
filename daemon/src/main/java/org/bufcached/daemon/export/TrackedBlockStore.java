package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.daemon.cache.CacheCallback;
import org.bufcached.daemon.cache.FileStats;
import org.bufcached.daemon.io.IoLoops;

/**
 * A store whose changes its export's dirty bitmaps record. The bits of a WRITE,
 * TRIM or WRITE_ZEROES are set before the request is handed on, so they are in
 * the page cache before the data can be; they are set again when it succeeds
 * ({@link #changeAcknowledged}), for a bitmap cleared or added meanwhile. FLUSH,
 * and a request with FUA, first sync the bitmap files if bits were set since
 * their last sync, so the bits are durable before the data they describe is.
 * When no bit changed the only cost is reading the bitmap words.
 */
public final class TrackedBlockStore implements BlockStore {
    private final BlockStore inner;
    private final ExportBitmaps bitmaps;
    /** Lets go of the bitmaps once the store is closed. */
    private final Runnable release;

    public TrackedBlockStore(BlockStore inner, ExportBitmaps bitmaps, Runnable release) {
        this.inner = inner;
        this.bitmaps = bitmaps;
        this.release = release;
    }

    public ExportBitmaps bitmaps() {
        return bitmaps;
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public FileStats stats() {
        return inner.stats();
    }

    @Override
    public String durabilityState() {
        return inner.durabilityState();
    }

    @Override
    public void read(long offset, int length, CacheCallback done) {
        inner.read(offset, length, done);
    }

    @Override
    public void write(long offset, ByteBuf data, boolean fua, CacheCallback done) {
        bitmaps.mark(offset, data.readableBytes());
        if (fua && bitmaps.unsynced()) {
            bitmaps.sync(IoLoops.current(), () -> inner.write(offset, data, true, done), failure -> {
                data.release();
                done.failed(failure);
            });
        } else {
            inner.write(offset, data, fua, done);
        }
    }

    @Override
    public void flush(CacheCallback done) {
        if (bitmaps.unsynced()) {
            bitmaps.sync(IoLoops.current(), () -> inner.flush(done), done::failed);
        } else {
            inner.flush(done);
        }
    }

    @Override
    public void trim(long offset, long length, boolean fua, CacheCallback done) {
        bitmaps.mark(offset, length);
        if (fua && bitmaps.unsynced()) {
            bitmaps.sync(IoLoops.current(), () -> inner.trim(offset, length, true, done), done::failed);
        } else {
            inner.trim(offset, length, fua, done);
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua,
                            CacheCallback done) {
        bitmaps.mark(offset, length);
        if (fua && bitmaps.unsynced()) {
            bitmaps.sync(IoLoops.current(), () -> inner.writeZeroes(offset, length, noHole, fastZero, true, done),
                    done::failed);
        } else {
            inner.writeZeroes(offset, length, noHole, fastZero, fua, done);
        }
    }

    @Override
    public void cache(long offset, long length, CacheCallback done) {
        inner.cache(offset, length, done);
    }

    @Override
    public void blockStatus(long offset, long length, int maxExtents, boolean wide, CacheCallback done) {
        inner.blockStatus(offset, length, maxExtents, wide, done);
    }

    @Override
    public void writerConnected() {
        inner.writerConnected();
    }

    @Override
    public void changeAcknowledged(long offset, long length) {
        bitmaps.mark(offset, length);
    }

    @Override
    public void close() {
        try {
            inner.close();
        } finally {
            release.run();
        }
    }

    @Override
    public String toString() {
        return inner.toString();
    }
}
