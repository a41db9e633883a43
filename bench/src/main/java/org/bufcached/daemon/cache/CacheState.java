package org.bufcached.daemon.cache;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.bufcached.config.CacheConfig;
import org.bufcached.daemon.store.BackingFile;

/**
 * A buffer cache over a sparse temporary file, driven from the benchmark's own
 * thread (no event loops: windows are mapped in place), with watermarks that keep
 * the flushers' machinery out of the way. The benchmarks live in the cache's
 * package to reach getblk, getnewbuf and bkvasync as the operations do.
 */
final class CacheState implements AutoCloseable {
    static final long BS = 64 * 1024;

    final BufCache cache;
    final CachedFile file;
    private final BackingFile backing;
    private final Path dir;

    /** {@code buffers} headers of 64 KiB over a file of {@code fileSize} bytes. */
    CacheState(int buffers, long fileSize) throws Exception {
        long size = buffers * BS;
        long far = Long.MAX_VALUE / 8;
        CacheConfig config = new CacheConfig(size, BS, far, far, size, far, far, 4 * BS, 6 * BS, 64, 1 << 20,
                1L << 30, 64L << 30, Duration.ZERO);
        cache = new BufCache(config, 1);
        cache.bindCurrentThread(0);
        dir = Files.createTempDirectory("bufcached-bench");
        backing = BackingFile.openOrCreate(dir.resolve("disk.img"), fileSize);
        file = cache.attach("bench", backing, false);
    }

    /** Associates and validates {@code blkno}, leaving it CLEAN: a block a hit will find. */
    void warm(long blkno) throws Exception {
        Buf bp = cache.getblk(file, blkno, null);
        cache.validate(bp, cache.allPages(bp));
        cache.bqrelse(bp);
    }

    @Override
    public void close() throws Exception {
        cache.kva.retireAll(file);
        cache.close();
        backing.close();
        Files.deleteIfExists(dir.resolve("disk.img"));
        Files.deleteIfExists(dir);
    }
}
