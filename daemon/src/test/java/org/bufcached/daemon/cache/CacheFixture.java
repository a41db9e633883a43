package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import org.bufcached.config.CacheConfig;
import org.bufcached.daemon.io.BlockingPool;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoEngine;
import org.bufcached.daemon.io.IoLoops;
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
        java.time.Duration syncInterval = java.time.Duration.ZERO;

        CacheConfig build() {
            return new CacheConfig(maxbufspace, bufferSize, lobufspace, hibufspace, maxbufspace, lodirtybufspace,
                    hidirtybufspace, lorunningspace, hirunningspace, flushperqueue, clusterLimit, windowSize,
                    maxMapped, syncInterval);
        }
    }

    static Cfg cfg() {
        return new Cfg();
    }

    final Path dir;
    final BufCache cache;
    /** One event loop with the fallback engine's file I/O: where the cache's operations run. */
    final EventLoopGroup group = new DefaultEventLoopGroup(1);
    final IoLoops loops;
    private final List<BackingFile> backings = new ArrayList<>();
    private final List<CachedFile> files = new ArrayList<>();

    CacheFixture(Path dir, Cfg cfg, int queueSets) {
        this(dir, cfg, queueSets, java.util.function.UnaryOperator.identity());
    }

    /** With each loop's file I/O wrapped by {@code decorate} (to inject faults). */
    CacheFixture(Path dir, Cfg cfg, int queueSets, java.util.function.UnaryOperator<FileIo> decorate) {
        this.dir = dir;
        this.loops = IoLoops.attach(IoEngine.NIO, group, new BlockingPool(2, "test-io"), decorate);
        this.cache = new BufCache(cfg.build(), queueSets, 64, loops);
        cache.bindCurrentThread(0);
    }

    /** Runs {@code task} on the fixture's event loop and waits for it. */
    void onLoop(Runnable task) {
        group.next().submit(task).syncUninterruptibly();
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

    /** Invalidates blocks {@code [first, last]} as a TRIM would, through the cache's operation on its loop. */
    void invalidate(CachedFile f, long first, long last) throws Exception {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        cache.change(f, first * cache.bufferSize(), (last - first + 1) * cache.bufferSize(), null, false,
                new CacheCallback() {
                    @Override
                    public void done(io.netty.buffer.ByteBuf data) {
                        done.complete(null);
                    }

                    @Override
                    public void failed(Throwable cause) {
                        done.completeExceptionally(cause);
                    }
                });
        done.get(10, TimeUnit.SECONDS);
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

    /** A callback that completes {@code answer} with null on success (releasing any data), else with the cause. */
    static CacheCallback into(java.util.concurrent.CompletableFuture<Throwable> answer) {
        return new CacheCallback() {
            @Override
            public void done(io.netty.buffer.ByteBuf data) {
                if (data != null) {
                    data.release();
                }
                answer.complete(null);
            }

            @Override
            public void failed(Throwable cause) {
                answer.complete(cause);
            }
        };
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
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        loops.close();
        for (BackingFile b : backings) {
            b.close();
        }
    }
}
