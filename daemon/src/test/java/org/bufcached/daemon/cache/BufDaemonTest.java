package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;
import static org.bufcached.daemon.cache.CacheFixture.KIB;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import org.bufcached.daemon.store.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** flushbufqueues and cluster_awrite, driven by hand with a synchronous or a held-back executor. */
class BufDaemonTest {
    @TempDir
    Path dir;

    private CacheFixture fx;
    private BufCache cache;
    private CachedFile f;
    /** Every write-back: {first block, number of blocks}, relative to the file. */
    private final List<long[]> writes = new ArrayList<>();
    private final Queue<Runnable> pending = new ArrayDeque<>();
    private final Executor held = pending::add;

    @AfterEach
    void close() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    private void setUp(CacheFixture.Cfg cfg, int sets) throws Exception {
        fx = new CacheFixture(dir, cfg, sets);
        cache = fx.cache;
        f = fx.file("disk", 2 * MIB, false);
        f.writeBack = recording();
    }

    /** One queue set, and write-backs of one buffer each: what was written is what was flushed. */
    private void setUpOneBufferClusters() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.clusterLimit = BS;
        setUp(cfg, 1);
    }

    /** A write-back that records the range and succeeds at once. */
    private CachedFile.WriteBack recording() {
        return (file, io, off, len, done) -> {
            synchronized (writes) {
                writes.add(new long[] {off / BS, len / BS});
            }
            done.complete(0);
        };
    }

    /** A light daemon whose write-backs start through {@code hop} instead of on the loop. */
    private BufDaemon daemon(Executor hop) {
        return new BufDaemon(cache, false, hop, n -> { });
    }

    private List<Long> writtenBlocks() {
        List<Long> blocks = new ArrayList<>();
        for (long[] w : writes) {
            for (long b = w[0]; b < w[0] + w[1]; b++) {
                blocks.add(b);
            }
        }
        writes.clear();
        return blocks;
    }

    @Test
    void flushbufqueuesWritesAtMostFlushperqueuePerCallAndMovesRoundRobin() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.flushperqueue = 2;
        cfg.clusterLimit = BS; // one buffer per write
        setUp(cfg, 2);
        for (long blk : new long[] {0, 2, 4}) {
            assertThat(fx.dirty(f, blk).qcpu).isZero();
        }
        cache.bindCurrentThread(1);
        for (long blk : new long[] {6, 8, 10}) {
            assertThat(fx.dirty(f, blk).qcpu).isEqualTo(1);
        }
        BufDaemon d = daemon(Runnable::run);

        assertThat(d.flushbufqueues()).isEqualTo(2);
        assertThat(writtenBlocks()).containsExactly(0L, 2L);
        assertThat(d.flushbufqueues()).as("the marker moved to the next set").isEqualTo(2);
        assertThat(writtenBlocks()).containsExactly(6L, 8L);
        assertThat(d.flushbufqueues()).as("set 0 ran out: on to set 1 in the same call").isEqualTo(2);
        assertThat(writtenBlocks()).containsExactly(4L, 10L);
        assertThat(d.flushbufqueues()).isZero();
        assertThat(writtenBlocks()).isEmpty();
        assertThat(cache.space.dirtybufcount.get()).isZero();
        assertThat(fx.length(0, BufQueues.DIRTY)).isZero();
        assertThat(fx.length(1, BufQueues.DIRTY)).isZero();
        assertThat(d.buffersWritten.sum()).isEqualTo(6);
    }

    @Test
    void theLightDaemonLeavesHeavyBuffersAlone() throws Exception {
        setUp(CacheFixture.cfg(), 1);
        CachedFile h = fx.file("heavy", MIB, true);
        h.writeBack = f.writeBack;
        fx.dirty(h, 0);
        assertThat(daemon(Runnable::run).flushbufqueues()).isZero();
        assertThat(new BufDaemon(cache, true, Runnable::run, n -> { }).flushbufqueues()).isEqualTo(1);
        assertThat(cache.space.dirtybufcounthw.get()).isZero();
    }

    @Test
    void aDirtyBufferNoLongerKeepsARetiredWindowMappedForGood() throws Exception {
        setUpOneBufferClusters();
        Buf dirty = fx.dirty(f, 0);
        Window w = dirty.windowRef;
        cache.kva.retire(w);
        assertThat(w.refs.get()).as("retirement drops idle clean buffers, not dirty ones").isPositive();
        cache.reclaimWindows();
        assertThat(cache.kva.retiredInUse()).containsExactly(w);

        BufDaemon d = daemon(Runnable::run);
        d.releaseRetiredWindows();
        assertThat(writtenBlocks()).as("the dirty buffer is written back").containsExactly(0L);
        assertThat(dirty.isSet(Buf.B_DELWRI)).isFalse();
        d.releaseRetiredWindows();
        assertThat(w.refs.get()).as("and dropped once clean").isZero();
        assertThat(cache.kva.retiredInUse()).isEmpty();
        cache.threads.checkpoint();
        assertThat(cache.reclaimWindows()).as("then unmapped").isEqualTo(1);
    }

    @Test
    void invalidDirtyBuffersAreDisposedNotWritten() throws Exception {
        setUpOneBufferClusters();
        Buf inval = fx.dirty(f, 0);
        fx.dirty(f, 1);
        inval.setFlags(Buf.B_INVAL); // marked while queued

        assertThat(daemon(Runnable::run).flushbufqueues()).isEqualTo(2);
        assertThat(writtenBlocks()).containsExactly(1L);
        assertThat(inval.qindex).isEqualTo(BufQueues.EMPTY);
        assertThat(fx.lookup(f, 0)).isNull();
        assertThat(cache.space.dirtybufcount.get()).isZero();
        assertThat(cache.space.dirtybufspace.get()).isZero();
    }

    @Test
    void clusterAwriteGathersBothDirectionsUpToTheClusterLimit() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.clusterLimit = 5 * BS;
        setUp(cfg, 1);
        for (long blk = 2; blk <= 8; blk++) {
            fx.dirty(f, blk);
        }
        Buf bp = fx.get(f, 4);
        daemon(Runnable::run).cluster_awrite(bp);
        assertThat(writes).hasSize(1);
        assertThat(writes.get(0)).containsExactly(2, 5); // blocks 2..6: back to 2 (1 is absent), forward to the limit
        for (long blk = 2; blk <= 6; blk++) {
            Buf b = fx.lookup(f, blk);
            assertThat(b.isSet(Buf.B_DELWRI)).as("block %d", blk).isFalse();
            assertThat(b.qindex).isEqualTo(BufQueues.CLEAN);
            assertThat(b.lock.isLocked()).isFalse();
        }
        for (long blk = 7; blk <= 8; blk++) {
            assertThat(fx.lookup(f, blk).isSet(Buf.B_DELWRI)).as("block %d", blk).isTrue();
        }
        assertThat(cache.space.dirtybufcount.get()).isEqualTo(2);
    }

    @Test
    void clusterAwriteStopsAtALockedOrCleanNeighbour() throws Exception {
        setUp(CacheFixture.cfg(), 1); // cluster limit 1MiB: only the neighbours stop it
        for (long blk = 1; blk <= 8; blk++) {
            fx.dirty(f, blk);
        }
        Buf locked = fx.lookup(f, 3);
        assertThat(locked.lock.tryLock()).isTrue();
        Buf clean = fx.get(f, 7);
        cache.bundirty(clean);
        cache.bqrelse(clean);

        Buf bp = fx.get(f, 4);
        daemon(Runnable::run).cluster_awrite(bp);
        assertThat(writes).hasSize(1);
        assertThat(writes.get(0)).containsExactly(4, 3); // 4, 5, 6
        assertThat(locked.isSet(Buf.B_DELWRI)).isTrue();
        assertThat(locked.lock.isLocked()).as("a lock it did not take is left alone").isTrue();
        assertThat(fx.lookup(f, 8).isSet(Buf.B_DELWRI)).isTrue();
        cache.BUF_UNLOCK(locked);
    }

    @Test
    void clusterAwriteStaysInsideOneWindow() throws Exception {
        CacheFixture.Cfg cfg = CacheFixture.cfg();
        cfg.windowSize = 256 * KIB; // 4 blocks per window
        setUp(cfg, 1);
        for (long blk = 1; blk <= 6; blk++) {
            fx.dirty(f, blk);
        }
        daemon(Runnable::run).cluster_awrite(fx.get(f, 2));
        assertThat(writes).hasSize(1);
        assertThat(writes.get(0)).containsExactly(1, 3); // 1, 2, 3 of window 0; 4 is in window 1
    }

    @Test
    void runningbufspaceCoversTheClusterWhileItsWriteRuns() throws Exception {
        setUp(CacheFixture.cfg(), 1);
        for (long blk = 0; blk < 3; blk++) {
            fx.dirty(f, blk);
        }
        BufDaemon d = daemon(held);
        assertThat(d.flushbufqueues()).isEqualTo(1); // one cluster of three
        assertThat(pending).hasSize(1);
        assertThat(cache.space.runningbufspace.get()).isEqualTo(3 * BS);
        assertThat(cache.space.runningbufcount.get()).isEqualTo(1);
        assertThat(cache.space.running(false)).isEqualTo(3 * BS);
        assertThat(cache.space.running(true)).isZero();
        for (long blk = 0; blk < 3; blk++) {
            Buf b = fx.lookup(f, blk);
            assertThat(b.lock.isLocked()).as("unlocked while written: writers need not wait").isFalse();
            assertThat(b.refs()).as("held while written: not reusable").isPositive();
            assertThat(b.qindex).isEqualTo(BufQueues.CLEAN);
            assertThat(b.isSet(Buf.B_DELWRI)).as("dirty became running").isFalse();
        }
        assertThat(cache.space.dirtybufcount.get()).isZero();
        assertThat(d.flushbufqueues()).as("nothing else to take").isZero();

        pending.poll().run();
        assertThat(writes).hasSize(1);
        assertThat(writes.get(0)).containsExactly(0, 3);
        assertThat(cache.space.runningbufspace.get()).isZero();
        assertThat(cache.space.runningbufcount.get()).isZero();
        assertThat(cache.space.dirtybufcount.get()).isZero();
        for (long blk = 0; blk < 3; blk++) {
            assertThat(fx.lookup(f, blk).refs()).as("hold dropped at biodone").isZero();
        }
    }

    /**
     * A failed write-back is the file's, not the cluster's: Linux marks the failed
     * pages clean and reports the error once per open file description. So the
     * buffers stay clean (their pages are the recovery's business now), and the
     * file's durability is in doubt: FLUSH will answer EIO until it is resolved.
     */
    @Test
    void aFailedWriteBackPutsTheFileInDoubt() throws Exception {
        setUp(CacheFixture.cfg(), 1);
        f.writeBack = (file, io, off, len, done) -> done.complete(-Errno.EIO);
        Buf bp = fx.dirty(f, 0);
        f.durability.written(0, BS, 0);
        BufDaemon d = daemon(Runnable::run);

        assertThat(d.flushbufqueues()).isEqualTo(1);
        assertThat(d.writeErrors.sum()).isEqualTo(1);
        assertThat(f.stats().writebackErrors()).isEqualTo(1);
        assertThat(f.durability.state()).isEqualTo(Durability.State.FAILED);
        assertThat(f.stats().durabilityFailed()).isTrue();
        assertThat(f.durability.suspect(0, BS)).as("what was written since the last sync is in doubt").isTrue();
        assertThat(bp.isSet(Buf.B_DELWRI)).isFalse();
        assertThat(bp.lock.isLocked()).isFalse();
        assertThat(bp.refs()).as("hold dropped at biodone").isZero();
        assertThat(cache.space.runningbufspace.get()).isZero();
        assertThat(d.flushbufqueues()).as("no live lock: nothing is retried by the flusher itself").isZero();
    }

    /**
     * A write-back that throws an unchecked exception did not write the range
     * either: biodone still runs, as a failure.
     */
    @Test
    void aWriteBackThrowingAnUncheckedExceptionIsAFailureNotASuccess() throws Exception {
        setUp(CacheFixture.cfg(), 1);
        f.writeBack = (file, io, off, len, done) -> {
            throw new IllegalStateException("window unmapped");
        };
        Buf bp = fx.dirty(f, 0);
        f.durability.written(0, BS, 0);
        BufDaemon d = daemon(Runnable::run);
        assertThat(d.flushbufqueues()).isEqualTo(1);
        assertThat(cache.space.runningbufspace.get()).isZero();
        assertThat(bp.lock.isLocked()).isFalse();
        assertThat(bp.refs()).isZero();
        assertThat(d.buffersWritten.sum()).isZero();
        assertThat(d.writeErrors.sum()).isEqualTo(1);
        assertThat(f.durability.state()).isEqualTo(Durability.State.FAILED);
    }
}
