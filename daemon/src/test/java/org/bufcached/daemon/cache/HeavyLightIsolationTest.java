package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;
import static org.bufcached.daemon.cache.CacheFixture.KIB;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.DefaultEventLoopGroup;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * buf_daemon and buf_daemon_hw as the daemon runs them (BufCacheService): a heavy
 * export whose store has stalled must not hold up the write-back of a light one.
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
        cfg.ioWorkers = 4;
        return cfg;
    }

    @Test
    void aStalledHeavyStoreDoesNotHoldUpLightWriteBack() throws Exception {
        CacheFixture.Cfg cfg = bufinit2MiB();
        ExecutorService io = Executors.newFixedThreadPool(cfg.ioWorkers);
        DefaultEventLoopGroup loops = new DefaultEventLoopGroup(1);
        BufCacheService service = new BufCacheService(cfg.build(), 1, io, new SimpleMeterRegistry());
        CacheFixture fx = new CacheFixture(dir, service.cache());
        BufCache cache = fx.cache;
        BufSpace space = cache.space;
        CountDownLatch storeBack = new CountDownLatch(1);
        try {
            CachedFile heavy = fx.file("nfs", 2 * MIB, true);
            CachedFile light = fx.file("ssd", 2 * MIB, false);
            AtomicInteger heavyWrites = new AtomicInteger();
            CachedFile.WriteBack real = heavy.writeBack;
            heavy.writeBack = (file, w, off, len) -> {
                heavyWrites.incrementAndGet();
                try {
                    storeBack.await(); // the store hangs
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                real.write(file, w, off, len);
            };
            service.start(loops);

            // Scattered writes to the slow store: one cluster per buffer.
            for (long blk = 0; blk < 16; blk += 2) {
                fx.dirty(heavy, blk);
            }
            assertThat(space.dirtybufcounthw.get()).isEqualTo(8);
            CacheFixture.await("buf_daemon_hw to start writing", () -> heavyWrites.get() >= 1);

            // Then the fast store is written to past its limit.
            for (long blk = 0; blk < 8; blk++) {
                fx.dirty(light, blk);
            }

            CacheFixture.await(() -> "light write-back while the heavy store is stalled: light dirty buffers "
                    + (space.dirtybufcount.get() - space.dirtybufcounthw.get()) + ", light running "
                    + space.running(false) + " bytes, heavy running " + space.running(true)
                    + " bytes in " + heavyWrites.get() + " write-backs stuck in the store",
                    () -> space.dirtybufcount.get() - space.dirtybufcounthw.get() == 0);
            assertThat(space.dirtybufspace.get()).isEqualTo(space.dirtybufspacehw.get());
            assertThat(storeBack.getCount()).as("the heavy store is still stalled").isEqualTo(1);
            assertThat(space.running(true)).as("heavy write-back still stuck in the store").isPositive();

            storeBack.countDown();
            CacheFixture.await("heavy write-back once the store is back",
                    () -> space.dirtybufcounthw.get() == 0 && space.running(true) == 0);
            assertThat(space.dirtybufspace.get()).isZero();
            CacheFixture.await("running write-back to finish", () -> space.runningbufspace.get() == 0);
        } finally {
            storeBack.countDown();
            service.close();
            fx.close();
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            io.shutdownNow();
        }
    }
}
