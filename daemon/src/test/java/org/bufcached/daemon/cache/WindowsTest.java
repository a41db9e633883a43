package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.KIB;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mapped windows under a budget of two: LRU retirement, and an unmap that waits for
 * the last buffer reference and a grace period of every worker thread.
 * Windows of 256KiB hold 4 buffers: blocks 0-3 are window 0, 4-7 window 1, ...
 */
class WindowsTest {
    private static final long WINDOW = 256 * KIB;

    @TempDir
    Path dir;

    private CacheFixture fx;
    private BufCache cache;
    private KvaMap kva;
    private WorkerThreads threads;
    private CachedFile f;

    @BeforeEach
    void setUp() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.windowSize = WINDOW;
        cfg.maxMapped = 2 * WINDOW;
        fx = new CacheFixture(dir, cfg, 1);
        cache = fx.cache;
        kva = cache.kva;
        threads = cache.threads;
        f = fx.file("disk", MIB, false);
    }

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void mappingAThirdWindowRetiresTheLeastRecentlyUsed() throws Exception {
        fx.clean(f, 0); // window 0
        fx.clean(f, 4); // window 1
        Window w0 = f.windowAt(0);
        Window w1 = f.windowAt(1);
        fx.clean(f, 1); // window 0 used again: window 1 is now the least recently used
        assertThat(kva.mappedBytes()).isEqualTo(2 * WINDOW);

        fx.clean(f, 8); // window 2
        assertThat(kva.retiredCount())
                .as("one window over the budget retires one window, not every live one")
                .isEqualTo(1);
        assertThat(w1.retired).isTrue();
        assertThat(w0.retired).isFalse();
        assertThat(f.windowAt(1)).isNull();
        assertThat(f.windowAt(0)).isSameAs(w0);
        // Block 4 was clean and idle: evicted with its window, which nobody refers to any more.
        assertThat(fx.lookup(f, 4)).isNull();
        assertThat(w1.refs.get()).isZero();

        threads.checkpoint();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(w1.mapping().isMapped()).isFalse();
        assertThat(kva.mappedBytes()).isEqualTo(2 * WINDOW);

        // Block 4 again maps a new window 1, with a new generation.
        Buf bp = fx.get(f, 4);
        assertThat(bp.windowRef).isNotSameAs(w1);
        assertThat(bp.windowRef.generation()).isGreaterThan(w1.generation());
        cache.bqrelse(bp);
    }

    @Test
    void aRetiredWindowIsUnmappedOnlyAfterItsLastBufferAndAGracePeriod() throws Exception {
        Buf b0 = fx.get(f, 0); // kept locked: a request is using it
        Window w0 = b0.windowRef;
        fx.clean(f, 4);
        kva.retire(w0);
        assertThat(w0.retired).isTrue();
        assertThat(w0.refs.get()).isEqualTo(1);
        assertThat(kva.mappedBytes()).as("still mapped until it can go").isEqualTo(2 * WINDOW);

        assertThat(cache.reclaimWindows()).as("a buffer still refers to it").isZero();
        assertThat(w0.mapping().isMapped()).isTrue();
        cache.kvabio.bkvasync(b0); // still safe to use

        // Released: the header lets go of a retired window (recycled to EMPTY).
        cache.bqrelse(b0);
        assertThat(b0.qindex).isEqualTo(BufQueues.EMPTY);
        assertThat(b0.file()).isNull();
        assertThat(w0.refs.get()).isZero();
        assertThat(cache.reclaimWindows())
                .as("no buffer, but this thread has not passed a quiescent point since the retirement")
                .isZero();

        threads.checkpoint();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(w0.mapping().isMapped()).isFalse();
        assertThat(kva.mappedBytes()).isEqualTo(WINDOW);
        assertThat(kva.unmapCount()).isEqualTo(1);
    }

    @Test
    void everyRegisteredThreadMustPassAQuiescentPointSinceRetirement() throws Exception {
        fx.clean(f, 0);
        Window w0 = f.windowAt(0);
        fx.clean(f, 4);
        kva.retire(w0); // evicts its idle buffer
        assertThat(w0.retired).isTrue();
        assertThat(w0.refs.get()).isZero();
        // This thread has been busy (odd) since it registered, before the retirement.
        assertThat(cache.reclaimWindows()).isZero();
        assertThat(w0.mapping().isMapped()).isTrue();
        threads.exit();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(kva.mappedBytes()).isEqualTo(WINDOW);
    }

    @Test
    void aThreadInsideATaskBlocksReclamation() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        Thread worker = new Thread(() -> {
            threads.enter();
            inside.countDown();
            try {
                finish.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            threads.exit();
        }, "worker");
        worker.start();
        inside.await();

        fx.clean(f, 0);
        Window w0 = f.windowAt(0);
        kva.retire(w0);
        threads.checkpoint(); // this thread passes a quiescent point...
        assertThat(cache.reclaimWindows()).as("...the worker is still inside its task").isZero();
        assertThat(w0.mapping().isMapped()).isTrue();
        threads.checkpoint();
        assertThat(cache.reclaimWindows()).isZero();

        finish.countDown();
        worker.join();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(w0.mapping().isMapped()).isFalse();
    }

    @Test
    void anIdleThreadDoesNotBlockReclamation() throws Exception {
        Thread worker = new Thread(() -> {
            threads.enter();
            threads.exit(); // idle from now on
        });
        worker.start();
        worker.join();
        fx.clean(f, 0);
        Window w0 = f.windowAt(0);
        kva.retire(w0);
        threads.checkpoint();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(w0.mapping().isMapped()).isFalse();
    }

    @Test
    void evictWindowDropsTheCleanIdleBuffersOfARetiredWindowOnly() throws Exception {
        Buf c0 = fx.clean(f, 0);
        Buf c1 = fx.clean(f, 1);
        Buf d2 = fx.dirty(f, 2);
        Buf l3 = fx.get(f, 3); // locked
        Buf other = fx.clean(f, 4);
        Window w0 = f.windowAt(0);
        assertThat(w0.refs.get()).isEqualTo(4);

        kva.retire(w0);
        assertThat(fx.lookup(f, 0)).isNull();
        assertThat(fx.lookup(f, 1)).isNull();
        assertThat(c0.qindex).isEqualTo(BufQueues.EMPTY);
        assertThat(c1.qindex).isEqualTo(BufQueues.EMPTY);
        assertThat(fx.lookup(f, 2)).as("dirty: kept until written").isSameAs(d2);
        assertThat(fx.lookup(f, 3)).as("locked: kept").isSameAs(l3);
        assertThat(fx.lookup(f, 4)).as("another window: kept").isSameAs(other);
        assertThat(w0.refs.get()).isEqualTo(2);
        threads.checkpoint();
        assertThat(cache.reclaimWindows()).isZero();

        // The dirty one, once clean, and the locked one, once released, go too.
        Buf bp = fx.get(f, 2);
        cache.bundirty(bp);
        cache.bqrelse(bp);
        cache.bqrelse(l3);
        assertThat(fx.lookup(f, 2)).isNull();
        assertThat(fx.lookup(f, 3)).isNull();
        assertThat(w0.refs.get()).isZero();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(other.windowRef.mapping().isMapped()).isTrue();
    }

    @Test
    void aHeldBufferKeepsItsRetiredWindowMappedUntilTheHoldIsDropped() throws Exception {
        Buf bp = fx.clean(f, 0);
        Window w0 = bp.windowRef;
        Buf held = cache.getcacheblk(f, 0, cache.allPages(bp)); // a READ reply in flight
        assertThat(held).isSameAs(bp);

        kva.retire(w0);
        threads.checkpoint();
        assertThat(cache.reclaimWindows()).isZero();
        assertThat(w0.mapping().isMapped()).isTrue();
        cache.kvabio.bkvasync(held); // the reply may still read it

        cache.bqdrop(held); // sent
        assertThat(w0.refs.get()).isZero();
        assertThat(cache.reclaimWindows()).isEqualTo(1);
        assertThat(w0.mapping().isMapped()).isFalse();
    }
}
