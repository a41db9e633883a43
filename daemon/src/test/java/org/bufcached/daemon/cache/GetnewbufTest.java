package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** getnewbuf: which buffer it takes, what it skips, when it gives up, and the bufspace hysteresis. */
class GetnewbufTest {
    @TempDir
    Path dir;

    private CacheFixture fx;

    @AfterEach
    void close() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    private CachedFile setUp(CacheFixture.Cfg cfg, int sets) throws Exception {
        fx = new CacheFixture(dir, cfg, sets);
        return fx.file("disk", 4 * MIB, false);
    }

    @Test
    void takesEmptyBeforeClean() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 1);
        assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(16);
        for (int blk = 0; blk < 16; blk++) {
            fx.clean(f, blk);
            assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(15 - blk);
            assertThat(fx.length(0, BufQueues.CLEAN)).isEqualTo(blk + 1);
        }
        // Every block is still cached: nothing was taken from CLEAN while EMPTY had buffers.
        for (int blk = 0; blk < 16; blk++) {
            assertThat(fx.lookup(f, blk)).as("block %d", blk).isNotNull();
        }
        assertThat(fx.cache.space.bufspace.get()).isEqualTo(16 * BS);

        Buf bp = fx.get(f, 16);
        // All CLEAN buffers were unaged: each got its second chance and the head, now aged, was taken.
        assertThat(fx.lookup(f, 0)).isNull();
        assertThat(bp.loffset()).isEqualTo(16 * BS);
        for (int blk = 1; blk < 16; blk++) {
            assertThat(fx.lookup(f, blk).isSet(Buf.B_AGE)).as("block %d aged", blk).isTrue();
        }
        assertThat(fx.cache.space.bufspace.get()).isEqualTo(16 * BS);
        fx.cache.bqrelse(bp);
    }

    @Test
    void cleanBufferWithoutAgeGetsASecondChance() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 1);
        for (int blk = 0; blk < 16; blk++) {
            fx.clean(f, blk);
        }
        Buf b0 = fx.lookup(f, 0);
        Buf b1 = fx.lookup(f, 1);
        b1.setFlags(Buf.B_AGE);

        Buf bp = fx.get(f, 40);
        assertThat(bp).isSameAs(b1); // the aged one was taken...
        assertThat(fx.lookup(f, 1)).isNull();
        assertThat(fx.lookup(f, 0)).isSameAs(b0); // ...the unaged head went round once more, now aged
        assertThat(b0.isSet(Buf.B_AGE)).isTrue();
        assertThat(fx.queue(0, BufQueues.CLEAN)).last().isSameAs(b0);
        fx.cache.bqrelse(bp);
    }

    @Test
    void theLastCleanBufferIsTakenWithoutASecondChance() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 1);
        for (int blk = 0; blk < 15; blk++) {
            fx.dirty(f, blk);
        }
        Buf last = fx.clean(f, 15);
        assertThat(last.isSet(Buf.B_AGE)).isFalse();
        assertThat(fx.length(0, BufQueues.EMPTY)).isZero();

        Buf bp = fx.get(f, 40);
        assertThat(bp).isSameAs(last);
        assertThat(fx.lookup(f, 15)).isNull();
        // Dirty buffers are never taken.
        assertThat(fx.length(0, BufQueues.DIRTY)).isEqualTo(15);
        fx.cache.bqrelse(bp);
    }

    @Test
    void skipsHeldAndLockedBuffers() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 1);
        for (int blk = 0; blk < 16; blk++) {
            fx.clean(f, blk).setFlags(Buf.B_AGE); // no second chance in the way
        }
        Buf held = fx.lookup(f, 0);
        fx.cache.bqhold(held);
        Buf locked = fx.lookup(f, 1);
        assertThat(locked.lock.tryLock()).isTrue(); // locked while on its queue, as a racing findblk would

        Buf bp = fx.get(f, 40);
        assertThat(bp).isSameAs(fx.lookup(f, 40));
        assertThat(fx.lookup(f, 0)).isSameAs(held);
        assertThat(fx.lookup(f, 1)).isSameAs(locked);
        assertThat(fx.lookup(f, 2)).as("the first free buffer was taken").isNull();
        assertThat(held.qindex).isEqualTo(BufQueues.CLEAN);
        assertThat(locked.qindex).isEqualTo(BufQueues.CLEAN);

        fx.cache.bqrelse(bp);
        fx.cache.bqdrop(held);
        fx.cache.BUF_UNLOCK(locked);
    }

    @Test
    void takesFromAnotherQueueSetWhenItsOwnHasNothing() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 2);
        assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(8);
        assertThat(fx.length(1, BufQueues.EMPTY)).isEqualTo(8);
        for (int blk = 0; blk < 8; blk++) {
            Buf bp = fx.dirty(f, blk);
            assertThat(bp.qcpu).as("own set first").isZero();
        }
        Buf bp = fx.get(f, 8);
        assertThat(bp.qcpu).isEqualTo(1);
        assertThat(fx.length(1, BufQueues.EMPTY)).isEqualTo(7);
        fx.cache.bqrelse(bp);
        assertThat(fx.queue(1, BufQueues.CLEAN)).containsExactly(bp); // it goes home to its own set
    }

    @Test
    void returnsNullAndParksTheRetryWhenEveryBufferIsDirtyOrHeld() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 1);
        for (int blk = 0; blk < 15; blk++) {
            fx.dirty(f, blk);
        }
        Buf held = fx.clean(f, 15);
        fx.cache.bqhold(held);
        long calls = fx.cache.space.getnewbufcalls.get();

        assertThat(fx.cache.getnewbuf(false)).isNull();
        assertThat(fx.cache.space.getnewbufcalls.get()).isEqualTo(calls + 1);

        AtomicInteger retries = new AtomicInteger();
        AtomicReference<Buf> got = new AtomicReference<>();
        Runnable retry = () -> {
            retries.incrementAndGet();
            try {
                got.set(fx.cache.getblk(f, 16, null));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        assertThat(fx.cache.getblk(f, 16, retry)).isNull();
        assertThat(fx.cache.space.buffersWaiting()).isEqualTo(1);
        assertThat(retries).hasValue(0);

        // Still nothing reusable: the request stays parked.
        fx.cache.bqdrop(held);
        fx.cache.bqhold(held);
        assertThat(retries).hasValue(0);

        // A dirty buffer written back goes to CLEAN: bufspacewakeup runs the parked retry.
        Buf bp = fx.get(f, 3);
        fx.cache.bundirty(bp);
        fx.cache.bqrelse(bp);
        assertThat(retries).hasValue(1);
        assertThat(fx.cache.space.buffersWaiting()).isZero();
        assertThat(got.get()).isSameAs(bp); // the retry got the buffer that came free
        assertThat(got.get().loffset()).isEqualTo(16 * BS);
        fx.cache.bqrelse(got.get());
        fx.cache.bqdrop(held);
    }

    @Test
    void getnewbufCountsEveryCallButNotHits() throws Exception {
        CachedFile f = setUp(CacheFixture.cfg(), 1);
        long before = fx.cache.space.getnewbufcalls.get();
        fx.clean(f, 0);
        fx.clean(f, 1);
        fx.clean(f, 0); // a hit: no new buffer
        assertThat(fx.cache.space.getnewbufcalls.get()).isEqualTo(before + 2);
    }

    private boolean flushing(int set) throws Exception {
        Field field = BufCache.class.getDeclaredField("flushingbufs");
        field.setAccessible(true);
        return ((boolean[]) field.get(fx.cache))[set];
    }

    @Test
    void aboveHibufspaceCleanBuffersAreFreedUntilBufspaceIsUnderLobufspace() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.hibufspace = 12 * BS;
        cfg.lobufspace = 8 * BS;
        CachedFile f = setUp(cfg, 1);
        for (int blk = 0; blk < 12; blk++) {
            fx.clean(f, blk).setFlags(Buf.B_AGE);
        }
        assertThat(fx.cache.space.bufspace.get()).isEqualTo(12 * BS);
        assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(4);
        assertThat(flushing(0)).isFalse();

        Buf bp = fx.cache.getnewbuf(false);
        assertThat(bp).isNotNull();
        // The EMPTY buffer it found first was put back; blocks 0..3 were freed to EMPTY and
        // block 4's header, taking bufspace under lobufspace, is the one returned.
        long bufspace = fx.cache.space.bufspace.get();
        assertThat(bufspace).isLessThan(cfg.lobufspace).isEqualTo(7 * BS);
        assertThat(flushing(0)).isFalse();
        assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(4 + 4);
        assertThat(fx.length(0, BufQueues.CLEAN)).isEqualTo(7);
        for (int blk = 0; blk < 5; blk++) {
            assertThat(fx.lookup(f, blk)).as("block %d freed", blk).isNull();
        }
        for (int blk = 5; blk < 12; blk++) {
            assertThat(fx.lookup(f, blk)).as("block %d kept", blk).isNotNull();
        }
        bp.setFlags(Buf.B_INVAL);
        fx.cache.brelse(bp);
    }

    @Test
    void flushingModeStaysOnUntilBufspaceIsUnderLobufspace() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.hibufspace = 12 * BS;
        cfg.lobufspace = 8 * BS;
        CachedFile f = setUp(cfg, 1);
        for (int blk = 0; blk < 8; blk++) {
            fx.dirty(f, blk);
        }
        for (int blk = 8; blk < 12; blk++) {
            fx.clean(f, blk).setFlags(Buf.B_AGE);
        }
        // Freeing all four clean buffers leaves bufspace at lobufspace, not under it:
        // still flushing, so EMPTY is skipped and there is nothing to take.
        assertThat(fx.cache.getnewbuf(false)).isNull();
        assertThat(flushing(0)).isTrue();
        assertThat(fx.cache.space.bufspace.get()).isEqualTo(8 * BS);
        assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(8);
        assertThat(fx.length(0, BufQueues.CLEAN)).isZero();

        // One dirty buffer written back: taking it drops bufspace under lobufspace and ends flushing.
        Buf bp = fx.get(f, 0);
        fx.cache.bundirty(bp);
        fx.cache.bqrelse(bp);
        Buf got = fx.cache.getnewbuf(false);
        assertThat(got).isSameAs(bp);
        assertThat(fx.cache.space.bufspace.get()).isEqualTo(7 * BS);
        assertThat(flushing(0)).isFalse();

        // And with flushing off, EMPTY comes first again.
        got.setFlags(Buf.B_INVAL);
        fx.cache.brelse(got);
        Buf next = fx.cache.getnewbuf(false);
        assertThat(next.qindex).isEqualTo(BufQueues.NONE);
        assertThat(fx.length(0, BufQueues.EMPTY)).isEqualTo(8);
        next.setFlags(Buf.B_INVAL);
        fx.cache.brelse(next);
    }
}
