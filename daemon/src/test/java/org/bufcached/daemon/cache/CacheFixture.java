package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bufcached.config.CacheConfig;
import org.bufcached.daemon.store.BackingFile;
import org.bufcached.daemon.store.PosixException;

/**
 * A small buffer cache over real files in a temporary directory, for the cache's
 * unit tests: 64KiB buffers, 16 of them unless told otherwise, watermarks that
 * stay out of the way unless a test sets them.
 */
final class CacheFixture implements AutoCloseable {
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long BS = 64 * KIB;
    /** Out of reach, and safe to add to. */
    static final long FAR = Long.MAX_VALUE / 8;

    /** The tunables, all at hand; {@link #build()} makes the record. */
    static final class Cfg {
        long bufferSize = BS;
        long maxbufspace = MIB;
        long lobufspace = FAR;
        long hibufspace = FAR;
        long lodirtybufspace = FAR;
        long hidirtybufspace = FAR;
        long lorunningspace = 4 * BS;
        long hirunningspace = 6 * BS;
        int flushperqueue = 64;
        long clusterLimit = MIB;
        long windowSize = MIB;
        long maxMapped = 64 * MIB;
        int ioWorkers = 2;

        CacheConfig build() {
            return new CacheConfig(maxbufspace, bufferSize, lobufspace, hibufspace, maxbufspace, lodirtybufspace,
                    hidirtybufspace, lorunningspace, hirunningspace, flushperqueue, clusterLimit, windowSize,
                    maxMapped, ioWorkers);
        }
    }

    static Cfg cfg() {
        return new Cfg();
    }

    final Path dir;
    final BufCache cache;
    private final List<BackingFile> backings = new ArrayList<>();
    private final List<CachedFile> files = new ArrayList<>();

    CacheFixture(Path dir, Cfg cfg, int queueSets) {
        this(dir, new BufCache(cfg.build(), queueSets));
    }

    CacheFixture(Path dir, BufCache cache) {
        this.dir = dir;
        this.cache = cache;
        cache.bindCurrentThread(0);
    }

    CachedFile file(String name, long size, boolean heavy) throws PosixException {
        BackingFile backing = BackingFile.openOrCreate(dir.resolve(name), size);
        backings.add(backing);
        CachedFile f = cache.attach(name, backing, heavy);
        files.add(f);
        return f;
    }

    /** getblk that must succeed: the buffer, locked and off its queue. */
    Buf get(CachedFile f, long blkno) throws PosixException {
        Buf bp = cache.getblk(f, blkno, null);
        assertThat(bp).as("getblk %s #%d", f, blkno).isNotNull();
        return bp;
    }

    /** A clean cached buffer of the block, on CLEAN. */
    Buf clean(CachedFile f, long blkno) throws PosixException {
        Buf bp = get(f, blkno);
        cache.validate(bp, cache.allPages(bp));
        cache.bqrelse(bp);
        return bp;
    }

    /** A delayed-write buffer of the block, every page dirty, on DIRTY or DIRTY_HW. */
    Buf dirty(CachedFile f, long blkno) throws PosixException {
        Buf bp = get(f, blkno);
        cache.validate(bp, cache.allPages(bp));
        cache.bdwrite(bp, cache.allPages(bp));
        return bp;
    }

    /** The buffer of the block, held, or null (findblk with FINDBLK_TEST, hold dropped). */
    Buf lookup(CachedFile f, long blkno) {
        Buf bp = cache.findblk(f, blkno, BufCache.FINDBLK_TEST);
        if (bp != null) {
            cache.bqdrop(bp);
        }
        return bp;
    }

    /** The buffers on queue {@code q} of set {@code cpu}, head to tail. */
    List<Buf> queue(int cpu, int q) {
        BufQueues pcpu = cache.bufpcpu[cpu];
        pcpu.spin.lock();
        try {
            List<Buf> l = new ArrayList<>();
            for (Buf bp = pcpu.first(q); bp != null; bp = BufQueues.next(bp)) {
                l.add(bp);
            }
            assertThat(l).hasSize(pcpu.length(q));
            return l;
        } finally {
            pcpu.spin.unlock();
        }
    }

    int length(int cpu, int q) {
        return queue(cpu, q).size();
    }

    /** Polls (for liveness only) until {@code condition} holds. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(() -> what, condition);
    }

    /** Polls until {@code condition} holds; the message is computed when it times out. */
    static void await(java.util.function.Supplier<String> what, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(2);
        }
    }

    @Override
    public void close() throws Exception {
        for (CachedFile f : files) {
            try {
                cache.kva.retireAll(f);
            } catch (RuntimeException e) {
                // best effort
            }
        }
        cache.threads.exit();
        cache.close();
        for (BackingFile b : backings) {
            b.close();
        }
    }
}
