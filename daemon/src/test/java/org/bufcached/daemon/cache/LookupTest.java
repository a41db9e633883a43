package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** getblk, findblk and getcacheblk: identity, lock parking, the READ hit path and findblk's KVABIO flag. */
class LookupTest {
    @TempDir
    Path dir;

    private CacheFixture fx;
    private BufCache cache;
    private CachedFile f;

    @BeforeEach
    void setUp() throws Exception {
        fx = new CacheFixture(dir, CacheFixture.cfg(), 1);
        cache = fx.cache;
        f = fx.file("disk", 2 * MIB, false);
    }

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    @Test
    void theSameBlockTwiceIsTheSameBuffer() throws Exception {
        Buf a = fx.get(f, 3);
        assertThat(a.file()).isSameAs(f);
        assertThat(a.loffset()).isEqualTo(3 * BS);
        assertThat(a.size()).isEqualTo((int) BS);
        assertThat(a.qindex).as("getblk returns it off its queue").isEqualTo(BufQueues.NONE);
        assertThat(a.lock.isLocked()).isTrue();
        cache.bqrelse(a);
        assertThat(a.lock.isLocked()).isFalse();
        Buf b = fx.get(f, 3);
        assertThat(b).isSameAs(a);
        cache.bqrelse(b);
        assertThat(fx.get(f, 4)).isNotSameAs(a);
    }

    @Test
    void theLastBlockOfAFileIsShort() throws Exception {
        CachedFile odd = fx.file("odd", BS + 8192, false);
        Buf bp = fx.get(odd, 1);
        assertThat(bp.size()).isEqualTo(8192);
        assertThat(cache.allPages(bp)).isEqualTo(cache.pages(0, 8192));
        cache.bqrelse(bp);
    }

    @Test
    void aLockedBufferMakesGetblkParkAndTheRetryRunsOnUnlock() throws Exception {
        Buf bp = fx.get(f, 0);
        AtomicInteger retries = new AtomicInteger();
        assertThat(cache.getblk(f, 0, retries::incrementAndGet)).isNull();
        assertThat(retries).hasValue(0);
        assertThat(bp.refs()).as("the failed lookup dropped its hold").isZero();
        assertThat(cache.getblk(f, 0, null)).as("GETBLK_NOWAIT").isNull();
        cache.bqrelse(bp);
        assertThat(retries).hasValue(1);
        Buf again = fx.get(f, 0);
        assertThat(again).isSameAs(bp);
        cache.bqrelse(again);
        assertThat(retries).as("a waiter runs once").hasValue(1);
    }

    @Test
    void getcacheblkReturnsTheBufferHeldOnlyWhenTheNeededPagesAreValid() throws Exception {
        long page = cache.validUnit;
        assertThat(cache.getcacheblk(f, 0, cache.pages(0, page))).as("not cached").isNull();

        Buf bp = fx.get(f, 0);
        cache.validate(bp, cache.pages(0, 2 * page));
        assertThat(bp.isSet(Buf.B_CACHE)).isFalse();
        bp.setFlags(Buf.B_AGE);
        cache.bqrelse(bp);

        Buf hit = cache.getcacheblk(f, 0, cache.pages(page, page));
        assertThat(hit).isSameAs(bp);
        assertThat(hit.refs()).isEqualTo(1);
        assertThat(hit.lock.isLocked()).as("held, not locked").isFalse();
        assertThat(hit.qindex).as("still on its queue").isEqualTo(BufQueues.CLEAN);
        assertThat(hit.isSet(Buf.B_AGE)).as("a hit makes it young again").isFalse();
        cache.bqdrop(hit);

        assertThat(cache.getcacheblk(f, 0, cache.pages(page, 2 * page))).as("page 2 not valid").isNull();
        assertThat(bp.refs()).isZero();

        Buf again = fx.get(f, 0);
        cache.validate(again, cache.allPages(again));
        assertThat(again.isSet(Buf.B_CACHE)).isTrue();
        cache.bqrelse(again);
        assertThat(cache.getcacheblk(f, 0, cache.allPages(again))).isSameAs(bp);
        cache.bqdrop(bp);

        bp.setFlags(Buf.B_INVAL); // being invalidated
        assertThat(cache.getcacheblk(f, 0, cache.pages(0, page))).isNull();
        assertThat(bp.refs()).isZero();
    }

    @Test
    void findblkTestHoldsWithoutLocking() throws Exception {
        Buf bp = fx.clean(f, 0);
        Buf found = cache.findblk(f, 0, BufCache.FINDBLK_TEST);
        assertThat(found).isSameAs(bp);
        assertThat(found.refs()).isEqualTo(1);
        assertThat(found.lock.isLocked()).isFalse();
        cache.bqdrop(found);
        assertThat(cache.findblk(f, 1, BufCache.FINDBLK_TEST)).isNull();
    }

    @Test
    void findblkLocksWithoutWaitingAndFailsOnALockedBuffer() throws Exception {
        Buf bp = fx.clean(f, 0);
        Buf found = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
        assertThat(found).isSameAs(bp);
        assertThat(found.lock.isLocked()).isTrue();
        assertThat(found.refs()).as("no hold left behind").isZero();
        assertThat(cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK)).as("locked: no wait").isNull();
        assertThat(bp.refs()).isZero();
        cache.bremfree(found);
        cache.bqrelse(found);
    }

    @Test
    void findblkWithKvabioKeepsTheFlag() throws Exception {
        registerAnotherThread();
        Buf bp = fx.clean(f, 0);
        assertThat(bp.isSet(Buf.B_KVABIO)).isTrue();
        cache.kvabio.bkvasync(bp);
        long mask = bp.cpumask();
        Buf found = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
        assertThat(found.isSet(Buf.B_KVABIO)).isTrue();
        assertThat(found.cpumask()).as("no synchronization").isEqualTo(mask);
        cache.bremfree(found);
        cache.bqrelse(found);
    }

    @Test
    void findblkWithoutKvabioClearsItThroughBkvasyncAll() throws Exception {
        registerAnotherThread();
        assertThat(cache.threads.activeMask()).isEqualTo(0b11);
        Buf bp = fx.clean(f, 0);
        assertThat(bp.cpumask()).isZero();
        long done = cache.kvabio.syncsDone();
        Buf found = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK);
        assertThat(found.isSet(Buf.B_KVABIO)).isFalse();
        assertThat(found.cpumask()).as("valid for every active thread").isEqualTo(0b11);
        assertThat(cache.kvabio.syncsDone()).isEqualTo(done + 1);
        cache.bremfree(found);
        cache.bqrelse(found);
    }

    private void registerAnotherThread() throws InterruptedException {
        Thread t = new Thread(() -> cache.threads.index());
        t.start();
        t.join();
    }
}
