package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bdirty/bundirty: dirty space by the page, dirty buffers by the buffer, the heavy class apart. */
class DirtyAccountingTest {
    @TempDir
    Path dir;

    private CacheFixture fx;
    private BufCache cache;
    private BufSpace space;
    private long page;

    @BeforeEach
    void setUp() throws Exception {
        fx = new CacheFixture(dir, CacheFixture.cfg(), 1);
        cache = fx.cache;
        space = cache.space;
        page = cache.validUnit;
    }

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    private void assertCounters(long dirty, long count, long dirtyHw, long countHw) {
        assertThat(space.dirtybufspace.get()).as("dirtybufspace").isEqualTo(dirty);
        assertThat(space.dirtykvaspace.get()).as("dirtykvaspace").isEqualTo(dirty);
        assertThat(space.dirtybufcount.get()).as("dirtybufcount").isEqualTo(count);
        assertThat(space.dirtybufspacehw.get()).as("dirtybufspacehw").isEqualTo(dirtyHw);
        assertThat(space.dirtybufcounthw.get()).as("dirtybufcounthw").isEqualTo(countHw);
    }

    @Test
    void dirtySpaceCountsPagesAndDirtyCountCountsBuffers() throws Exception {
        CachedFile f = fx.file("light", MIB, false);
        CachedFile h = fx.file("heavy", MIB, true);

        Buf b0 = fx.get(f, 0);
        cache.bdwrite(b0, cache.pages(0, page));
        assertCounters(page, 1, 0, 0);
        assertThat(b0.isSet(Buf.B_DELWRI)).isTrue();
        assertThat(b0.qindex).isEqualTo(BufQueues.DIRTY);

        // The same buffer again, two more pages and one already dirty: +2 pages, still one buffer.
        b0 = fx.get(f, 0);
        cache.bdwrite(b0, cache.pages(0, 3 * page));
        assertCounters(3 * page, 1, 0, 0);
        // Rewriting dirty pages adds nothing.
        b0 = fx.get(f, 0);
        cache.bdwrite(b0, cache.pages(page, page));
        assertCounters(3 * page, 1, 0, 0);

        Buf b1 = fx.get(f, 1);
        cache.bdwrite(b1, cache.pages(5 * page, page));
        assertCounters(4 * page, 2, 0, 0);

        // A heavy export's buffer: counted in the *hw counters too, and queued on DIRTY_HW.
        Buf hb = fx.get(h, 0);
        assertThat(hb.isSet(Buf.B_HEAVY)).isTrue();
        cache.bdwrite(hb, cache.allPages(hb));
        long whole = Long.bitCount(cache.allPages(hb)) * page;
        assertThat(whole).isEqualTo(hb.size());
        assertCounters(4 * page + whole, 3, whole, 1);
        assertThat(hb.qindex).isEqualTo(BufQueues.DIRTY_HW);
        assertThat(fx.queue(0, BufQueues.DIRTY_HW)).containsExactly(hb);
        assertThat(fx.queue(0, BufQueues.DIRTY)).containsExactly(b0, b1);

        // bundirty gives back exactly what the buffer had.
        b1 = fx.get(f, 1);
        cache.bundirty(b1);
        assertThat(b1.isSet(Buf.B_DELWRI)).isFalse();
        assertCounters(3 * page + whole, 2, whole, 1);
        cache.bundirty(b1); // a second bundirty is a no-op
        assertCounters(3 * page + whole, 2, whole, 1);
        cache.bqrelse(b1);
        assertThat(b1.qindex).isEqualTo(BufQueues.CLEAN);

        // brelse of a dirty B_INVAL buffer undirties it and frees it.
        b0 = fx.get(f, 0);
        b0.setFlags(Buf.B_INVAL);
        cache.brelse(b0);
        assertCounters(whole, 1, whole, 1);
        assertThat(b0.qindex).isEqualTo(BufQueues.EMPTY);
        assertThat(fx.lookup(f, 0)).isNull();

        hb = fx.get(h, 0);
        cache.bundirty(hb);
        cache.bqrelse(hb);
        assertCounters(0, 0, 0, 0);
        assertThat(space.dirtybufspacehw.get()).isZero();
    }

    @Test
    void brelseKeepsADelayedWriteBufferThatIsNotInvalid() throws Exception {
        CachedFile f = fx.file("light", MIB, false);
        Buf bp = fx.get(f, 2);
        cache.bdirty(bp, cache.allPages(bp));
        cache.brelse(bp); // a delayed-write buffer that is not B_INVAL survives brelse
        assertThat(bp.qindex).isEqualTo(BufQueues.DIRTY);
        assertThat(fx.lookup(f, 2)).isSameAs(bp);
        assertCounters(bp.size(), 1, 0, 0);

        bp = fx.get(f, 2);
        bp.setFlags(Buf.B_NOCACHE); // B_NOCACHE does
        cache.brelse(bp);
        assertCounters(0, 0, 0, 0);
        assertThat(fx.lookup(f, 2)).isNull();
    }

    @Test
    void invalidateRangeDropsDirtyBuffersAndTheirAccounting() throws Exception {
        CachedFile f = fx.file("light", MIB, false);
        fx.dirty(f, 0);
        fx.dirty(f, 1);
        fx.clean(f, 2);
        fx.dirty(f, 3);
        fx.invalidate(f, 1, 2);
        assertThat(fx.lookup(f, 1)).isNull();
        assertThat(fx.lookup(f, 2)).isNull();
        assertThat(fx.lookup(f, 0)).isNotNull();
        assertThat(fx.lookup(f, 3)).isNotNull();
        long buffer = Long.bitCount(cache.allPages(fx.lookup(f, 0))) * page;
        assertCounters(2 * buffer, 2, 0, 0);
        assertThat(space.bufspace.get()).isEqualTo(2 * buffer);
        fx.invalidate(f, 0, 15);
        assertCounters(0, 0, 0, 0);
        assertThat(space.bufspace.get()).isZero();
    }
}
