package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.bufcached.daemon.cache.BufCache;
import org.bufcached.daemon.cache.CacheCallback;
import org.bufcached.daemon.cache.CachedFile;
import org.bufcached.daemon.cache.FileStats;
import org.bufcached.daemon.io.DataBuffers;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoLoops;
import org.bufcached.daemon.store.PosixException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NBD's commands on an export's file, served through the buffer cache: READ and
 * WRITE go through buffers, FUA is the cache's synchronous write, FLUSH its sync,
 * TRIM and WRITE_ZEROES changes of the file behind invalidated buffers,
 * BLOCK_STATUS the file's holes (lseek, off the loop), CACHE a prefetch.
 */
public final class CachedBlockStore implements BlockStore {
    private static final Logger LOG = LoggerFactory.getLogger(CachedBlockStore.class);
    /** How long closing waits for the operations in flight to let go of the buffers, and for the last sync. */
    public static final long CLOSE_MILLIS = 10_000;

    private final BufCache cache;
    private final CachedFile file;

    public CachedBlockStore(BufCache cache, CachedFile file) {
        this.cache = cache;
        this.file = file;
    }

    public CachedFile file() {
        return file;
    }

    @Override
    public long size() {
        return file.size();
    }

    @Override
    public FileStats stats() {
        return file.stats();
    }

    @Override
    public String durabilityState() {
        return file.durabilityState();
    }

    @Override
    public void read(long offset, int length, CacheCallback done) {
        cache.read(file, offset, length, done);
    }

    @Override
    public void write(long offset, ByteBuf data, boolean fua, CacheCallback done) {
        cache.write(file, offset, data, fua, done);
    }

    @Override
    public void writerConnected() {
        cache.expectSync(file);
    }

    @Override
    public void flush(CacheCallback done) {
        cache.sync(file, done);
    }

    @Override
    public void trim(long offset, long length, boolean fua, CacheCallback done) {
        cache.change(file, offset, length, FileChanges.TRIM, fua, done);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua,
                            CacheCallback done) {
        cache.change(file, offset, length, FileChanges.zeroes(noHole, fastZero), fua, done);
    }

    @Override
    public void cache(long offset, long length, CacheCallback done) {
        cache.prefetch(file, offset, length, done);
    }

    @Override
    public void blockStatus(long offset, long length, int maxExtents, boolean wide, CacheCallback done) {
        FileIo io = IoLoops.current();
        if (io == null) {
            done.failed(new IllegalStateException("BLOCK_STATUS off an event loop"));
            return;
        }
        // SEEK_DATA may read the file's extent tree from the disk: not on the loop.
        long[][] extents = new long[1][];
        io.offload(() -> {
            extents[0] = file.backing().extents(offset, Math.max(length, 1), maxExtents);
            return 0;
        }, result -> {
            if (result < 0) {
                done.failed(new PosixException("lseek", (int) -result, "export " + file.name() + ", offset="
                        + offset));
                return;
            }
            done.done(Descriptors.encode(DataBuffers.ALLOC, extents[0], file.size() - offset, wide));
        });
    }

    /**
     * Closes the export's file: new requests get ESHUTDOWN, the buffers go once
     * the requests holding them let go, then a last fdatasync, then the
     * descriptors close. Each wait is bounded: a hung disk delays shutdown by
     * {@link #CLOSE_MILLIS} at most, with a log line saying what was cut short.
     */
    @Override
    public void close() {
        try {
            cache.close(file).get(CLOSE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("export {}: buffers still held by requests after {} ms; closing anyway", file.name(),
                    CLOSE_MILLIS);
        } catch (ExecutionException e) {
            LOG.warn("export {}: dropping its buffers failed: {}", file.name(), e.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lastSync();
        if (!"clean".equals(file.durabilityState())) {
            LOG.error("export {} closed with data not proven durable: {}", file.name(), file.durabilityState());
        }
        try {
            file.backing().close();
        } catch (PosixException e) {
            LOG.error("close of {} failed: {}", file, e.getMessage());
        }
    }

    /** fdatasync of the file, bounded: a sync stuck in a hung disk is left to finish on its own. */
    private void lastSync() {
        CompletableFuture<Void> synced = CompletableFuture.runAsync(() -> {
            try {
                file.finalSync();
            } catch (PosixException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }, r -> {
            Thread t = new Thread(r, "bufcached-close-" + file.name());
            t.setDaemon(true);
            t.start();
        });
        try {
            synced.get(CLOSE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.error("export {}: the last fdatasync did not finish within {} ms (a hung disk?); closing anyway",
                    file.name(), CLOSE_MILLIS);
        } catch (ExecutionException e) {
            LOG.error("export {}: the last fdatasync failed: {}", file.name(), e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return file.toString();
    }
}
