package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KVABIO rules of the seed commit (seeds/kvabio-stabilization-commit.txt) and
 * DESIGN.md, one test per rule.
 */
class KvabioTest {
    @TempDir
    Path dir;

    private CacheFixture fx;
    private BufCache cache;
    private Kvabio kvabio;
    private CachedFile f;
    private long me;

    @BeforeEach
    void setUp() throws Exception {
        fx = new CacheFixture(dir, CacheFixture.cfg(), 1);
        cache = fx.cache;
        kvabio = cache.kvabio;
        f = fx.file("disk", 2 * MIB, false);
        me = 1L << cache.threads.index();
    }

    @AfterEach
    void close() throws Exception {
        fx.close();
    }

    /** Runs {@code task} on a new thread (a new "CPU") and waits for it. */
    private long onAnotherThread(Runnable task) throws InterruptedException {
        AtomicLong bit = new AtomicLong();
        Thread t = new Thread(() -> {
            bit.set(1L << cache.threads.index());
            task.run();
        });
        t.start();
        t.join();
        return bit.get();
    }

    @Test
    void bkvareset_withKvabio_clearsTheCpumask() throws Exception {
        Buf bp = fx.get(f, 0);
        assertThat(bp.isSet(Buf.B_KVABIO)).as("getblk associates with B_KVABIO").isTrue();
        assertThat(bp.cpumask()).as("and a cleared cpumask").isZero();
        bp.cpumask[0] = 0b101;
        kvabio.bkvareset(bp);
        assertThat(bp.cpumask()).isZero();
        assertThat(bp.isSet(Buf.B_KVABIO)).isTrue();
        cache.bqrelse(bp);
    }

    @Test
    void bkvareset_withoutKvabio_setsEveryActiveBit() throws Exception {
        long other = onAnotherThread(() -> { });
        Buf bp = fx.get(f, 0);
        bp.clearFlags(Buf.B_KVABIO);
        kvabio.bkvareset(bp);
        assertThat(bp.cpumask()).isEqualTo(me | other).isEqualTo(cache.threads.activeMask());
        cache.bqrelse(bp);
    }

    @Test
    void bkvasync_setsOnlyTheCallersBit_syncsOnceThenAvoids() throws Exception {
        Buf bp = fx.get(f, 0);
        long done = kvabio.syncsDone();
        long avoided = kvabio.syncsAvoided();

        kvabio.bkvasync(bp);
        assertThat(bp.cpumask()).isEqualTo(me);
        assertThat(kvabio.syncsDone()).isEqualTo(done + 1);
        assertThat(kvabio.syncsAvoided()).isEqualTo(avoided);

        kvabio.bkvasync(bp);
        assertThat(bp.cpumask()).isEqualTo(me);
        assertThat(kvabio.syncsDone()).isEqualTo(done + 1);
        assertThat(kvabio.syncsAvoided()).isEqualTo(avoided + 1);

        long other = onAnotherThread(() -> kvabio.bkvasync(bp));
        assertThat(other).isNotEqualTo(me);
        assertThat(bp.cpumask()).isEqualTo(me | other);
        assertThat(kvabio.syncsDone()).isEqualTo(done + 2);
        assertThat(bp.isSet(Buf.B_KVABIO)).as("bkvasync never clears B_KVABIO").isTrue();
        cache.bqrelse(bp);
    }

    @Test
    void bkvasyncAll_isTheOnlyPathClearingKvabio_andSetsEveryBit() throws Exception {
        long other = onAnotherThread(() -> { });
        Buf bp = fx.get(f, 0);
        // None of the ordinary paths clears it.
        kvabio.bkvasync(bp);
        cache.validate(bp, cache.allPages(bp));
        cache.bdirty(bp, cache.pages(0, 1));
        cache.bqrelse(bp);
        cache.bqdrop(cache.getcacheblk(f, 0, cache.pages(0, 1)));
        Buf found = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
        cache.bremfree(found);
        kvabio.bkvareset(found);
        assertThat(found.isSet(Buf.B_KVABIO)).isTrue();

        long done = kvabio.syncsDone();
        kvabio.bkvasync_all(found);
        assertThat(found.isSet(Buf.B_KVABIO)).isFalse();
        assertThat(found.cpumask()).isEqualTo(me | other);
        assertThat(kvabio.syncsDone()).isEqualTo(done + 1);
        // Already valid everywhere: a second one is avoided and still leaves the flag clear.
        kvabio.bkvasync_all(found);
        assertThat(kvabio.syncsDone()).isEqualTo(done + 1);
        assertThat(found.isSet(Buf.B_KVABIO)).isFalse();
        cache.bundirty(found);
        cache.bqrelse(found);
    }

    @Test
    void findblk_neverClearsKvabio_exceptThroughBkvasyncAll() throws Exception {
        Buf bp = fx.clean(f, 0);
        long other = onAnotherThread(() -> kvabio.bkvasync(bp));
        assertThat(bp.cpumask()).isEqualTo(other);

        Buf kept = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
        assertThat(kept.isSet(Buf.B_KVABIO)).isTrue();
        assertThat(kept.cpumask()).as("FINDBLK_KVABIO: left for the caller to bkvasync").isEqualTo(other);
        cache.BUF_UNLOCK(kept);

        long done = kvabio.syncsDone();
        Buf synced = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK);
        assertThat(synced.isSet(Buf.B_KVABIO)).isFalse();
        assertThat(synced.cpumask())
                .as("cleared only after synchronizing for every thread (bkvasync_all)")
                .isEqualTo(me | other);
        assertThat(kvabio.syncsDone()).isEqualTo(done + 1);
        cache.BUF_UNLOCK(synced);

        // With FINDBLK_KVABIO the caller's wish is honoured: the flag may be set again.
        Buf again = cache.findblk(f, 0, BufCache.FINDBLK_NBLOCK | BufCache.FINDBLK_KVABIO);
        assertThat(again.isSet(Buf.B_KVABIO)).isTrue();
        assertThat(again.cpumask()).isEqualTo(me | other);
        cache.BUF_UNLOCK(again);
    }

    @Test
    void vfsVmioRelease_clearsTheCpumask() throws Exception {
        Buf bp = fx.get(f, 0);
        kvabio.bkvasync_all(bp);
        assertThat(bp.cpumask()).isNotZero();
        cache.vfs_vmio_release(bp);
        assertThat(bp.cpumask()).isZero();
        cache.bqrelse(bp);
    }

    @Test
    void recyclingInGetnewbuf_clearsTheCpumask() throws Exception {
        for (int blk = 0; blk < 16; blk++) {
            Buf bp = fx.clean(f, blk);
            bp.setFlags(Buf.B_AGE);
            kvabio.bkvasync_all(bp); // every buffer valid on every thread
        }
        Buf victim = fx.lookup(f, 0);
        assertThat(victim.cpumask()).isNotZero();
        Buf bp = cache.getnewbuf(false);
        assertThat(bp).isSameAs(victim);
        assertThat(bp.file()).isNull();
        assertThat(bp.cpumask()).isZero();
        assertThat(bp.isSet(Buf.B_KVABIO)).isFalse();
        bp.setFlags(Buf.B_INVAL);
        cache.brelse(bp);

        // Reassociated: B_KVABIO again, no thread has it.
        Buf fresh = fx.get(f, 20);
        assertThat(fresh).isSameAs(victim);
        assertThat(fresh.isSet(Buf.B_KVABIO)).isTrue();
        assertThat(fresh.cpumask()).isZero();
        cache.bqrelse(fresh);
    }

    @Test
    void theFlushers_setAgeAndKvabio_withACorrectCpumask() throws Exception {
        // A buffer handed to non-KVABIO code earlier: flag clear, valid on every thread.
        long other = onAnotherThread(() -> { });
        Buf bp = fx.get(f, 0);
        cache.validate(bp, cache.allPages(bp));
        kvabio.bkvasync_all(bp);
        cache.bdwrite(bp, cache.allPages(bp));
        assertThat(bp.isSet(Buf.B_KVABIO)).isFalse();

        // And a fresh one nobody synchronized yet.
        Buf fresh = fx.dirty(f, 8);
        assertThat(fresh.cpumask()).isZero();

        List<long[]> written = new ArrayList<>();
        f.writeBack = (file, io, off, len, done) -> {
            written.add(new long[] {off, len});
            done.complete(0);
        };
        BufDaemon daemon = new BufDaemon(cache, false, Runnable::run, n -> { });
        assertThat(daemon.flushbufqueues()).isEqualTo(2);
        assertThat(written).hasSize(2);

        for (Buf b : List.of(bp, fresh)) {
            assertThat(b.isSet(Buf.B_DELWRI)).isFalse();
            assertThat(b.isSet(Buf.B_AGE)).as("flushed: B_AGE").isTrue();
            assertThat(b.isSet(Buf.B_KVABIO)).as("flushed: B_KVABIO").isTrue();
            assertThat(b.mapgen).isEqualTo(b.windowRef.generation());
        }
        // Write-back goes through the file, not the mapping: no thread synchronized anything,
        // and the masks still name exactly the threads that validated this very mapping.
        assertThat(bp.cpumask()).isEqualTo(me | other);
        assertThat(fresh.cpumask()).isZero();
    }

    @Test
    void bkvasync_onAnUnmappedWindow_throwsInsteadOfTouchingMemory() throws Exception {
        Buf bp = fx.get(f, 0);
        Window w = bp.windowRef;
        w.mapping().unmap(); // what a premature munmap would do
        long done = kvabio.syncsDone();
        assertThatThrownBy(() -> kvabio.bkvasync(bp)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> kvabio.bkvasync_all(bp)).isInstanceOf(IllegalStateException.class);
        assertThat(bp.cpumask()).isZero();
        assertThat(kvabio.syncsDone()).isEqualTo(done);
        bp.setFlags(Buf.B_INVAL);
        cache.brelse(bp);
    }

    @Test
    void bkvasync_onAStaleGeneration_throws() throws Exception {
        Buf bp = fx.get(f, 0);
        bp.mapgen = bp.windowRef.generation() + 1;
        assertThatThrownBy(() -> kvabio.bkvasync(bp)).isInstanceOf(IllegalStateException.class);
        bp.mapgen = bp.windowRef.generation();
        kvabio.bkvasync(bp);
        assertThat(bp.cpumask()).isEqualTo(me);
        cache.bqrelse(bp);
    }
}
