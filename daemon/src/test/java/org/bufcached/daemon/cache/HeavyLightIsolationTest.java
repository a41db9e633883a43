package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.KIB;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * buf_daemon and buf_daemon_hw running on their threads, write-backs on the
 * fallback engine's write-back lane: a heavy export whose store has stalled must
 * not hold up the write-back of a light one.
 */
class HeavyLightIsolationTest {
    @TempDir
    Path dir;

    /** The tunables bufinit derives for a 2MiB cache of 64KiB buffers. */
    private static CacheFixture.Cfg bufinit2MiB() {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.maxbufspace = 2 * MIB; // 32 buffers
        cfg.hibufspace = 1536 * KIB;
        cfg.lobufspace = 1344 * KIB;
        cfg.hidirtybufspace = 768 * KIB; // 12 buffers
        cfg.lodirtybufspace = 384 * KIB; // each daemon drains its class to 3 buffers
        cfg.hirunningspace = 768 * KIB;
        cfg.lorunningspace = 512 * KIB;
        cfg.flushperqueue = 64;
        cfg.clusterLimit = MIB;
        cfg.windowSize = MIB;
        return cfg;
    }

    /**
     * The heavy store hangs in the kernel: each of its write-backs holds a thread of
     * the fallback engine's write-back lane (two threads here) for as long as the
     * store is stalled. Light write-back must still go through: buf_daemon_hw may
     * hold only half of the lane.
     */
    @Test
    void aStalledHeavyStoreDoesNotHoldUpLightWriteBack() throws Exception {
        CacheFixture fx = new CacheFixture(dir, bufinit2MiB(), 1);
        BufCache cache = fx.cache;
        BufSpace space = cache.space;
        assertThat(space.maxHeavyWritebacks).as("half of a write-back lane of two").isEqualTo(1);
        BufDaemon light = new BufDaemon(cache, false, n -> { });
        BufDaemon heavyDaemon = new BufDaemon(cache, true, n -> { });
        CountDownLatch storeBack = new CountDownLatch(1);
        try {
            CachedFile heavy = fx.file("nfs", 2 * MIB, true);
            CachedFile ssd = fx.file("ssd", 2 * MIB, false);
            AtomicInteger heavyWrites = new AtomicInteger();
            // The store hangs: its sync_file_range sits in the kernel, holding a thread of the lane.
            heavy.writeBack = (file, io, off, len, done) -> fx.loops.writeBackPool().execute(() -> {
                heavyWrites.incrementAndGet();
                try {
                    storeBack.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                io.loop().execute(() -> done.complete(0));
            });
            light.start();
            heavyDaemon.start();

            // Scattered writes to the slow store: one cluster per buffer.
            for (long blk = 0; blk < 16; blk += 2) {
                fx.dirty(heavy, blk);
            }
            assertThat(space.dirtybufcounthw.get()).isEqualTo(8);
            space.bd_wakeup_all();
            CacheFixture.await("buf_daemon_hw to start writing", () -> heavyWrites.get() >= 1);

            // Then the fast store is written to past its limit.
            for (long blk = 0; blk < 8; blk++) {
                fx.dirty(ssd, blk);
            }
            space.bd_wakeup_all();

            CacheFixture.await(() -> "light write-back while the heavy store is stalled: light dirty buffers "
                    + (space.dirtybufcount.get() - space.dirtybufcounthw.get()) + ", light running "
                    + space.running(false) + " bytes, heavy running " + space.running(true)
                    + " bytes in " + heavyWrites.get() + " write-backs stuck in the store",
                    () -> space.dirtybufcount.get() - space.dirtybufcounthw.get() == 0 && space.running(false) == 0);
            assertThat(space.dirtybufspace.get()).isEqualTo(space.dirtybufspacehw.get());
            assertThat(storeBack.getCount()).as("the heavy store is still stalled").isEqualTo(1);
            assertThat(space.running(true)).as("heavy write-back still stuck in the store").isPositive();
            assertThat(space.runningbufcounthw.get()).as("no more heavy write-backs than its share").isEqualTo(1);

            // Once the store is back, buf_daemon_hw drains its class down to the low mark (alone, it may
            // keep all of it).
            int stuck = heavyWrites.get();
            storeBack.countDown();
            space.bd_wakeup_all();
            CacheFixture.await("heavy write-back once the store is back", () -> heavyWrites.get() > stuck
                    && space.running(true) == 0 && space.dirtybufspacehw.get() <= space.lodirtybufspace);
            CacheFixture.await("running write-back to finish", () -> space.runningbufspace.get() == 0);
        } finally {
            storeBack.countDown();
            light.stop();
            heavyDaemon.stop();
            fx.close();
        }
    }
}
