package org.bufcached.daemon.cache;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The buffer cache's hot paths, one operation each:
 * <ul>
 * <li>{@link #getcacheblkHit}: a READ hit's lookup, hold and release (hash stripe, b_refs, B_AGE);</li>
 * <li>{@link #getblkHit}: a WRITE's lock of a cached block and its bqrelse (hash, BUF_LOCK, queue lock);</li>
 * <li>{@link #getnewbufUnderPressure}: getblk of a block not in the cache when every buffer
 *     is CLEAN and in use for other blocks: getnewbuf recycles one (second chance, vfs_vmio_release);</li>
 * <li>{@link #bkvasyncValidated}: the KVABIO check of a thread that validated the mapping before.</li>
 * </ul>
 * Run: {@code java -jar bench/target/benchmarks.jar} (add {@code -f 1 -wi 3 -i 5} for a quick run).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class GetblkBenchmark {
    private static final int BUFFERS = 256;

    private CacheState state;
    private long next;
    private Buf validated;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        state = new CacheState(BUFFERS, 4L << 30);
        for (long blkno = 0; blkno < BUFFERS; blkno++) {
            state.warm(blkno);
        }
        validated = state.cache.getcacheblk(state.file, 0, 1);
        state.cache.kvabio.bkvasync(validated);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        state.cache.bqdrop(validated);
        state.close();
    }

    @Benchmark
    public Buf getcacheblkHit() {
        Buf bp = state.cache.getcacheblk(state.file, (next++) & (BUFFERS - 1), 1);
        state.cache.bqdrop(bp);
        return bp;
    }

    @Benchmark
    public Buf getblkHit() throws Exception {
        Buf bp = state.cache.getblk(state.file, (next++) & (BUFFERS - 1), null);
        state.cache.bqrelse(bp);
        return bp;
    }

    /** Blocks never seen before, cycling far beyond the cache: every call recycles a clean buffer. */
    @Benchmark
    public Buf getnewbufUnderPressure() throws Exception {
        long blkno = BUFFERS + (next++ % (60_000 - BUFFERS));
        Buf bp = state.cache.getblk(state.file, blkno, null);
        state.cache.validate(bp, state.cache.allPages(bp));
        state.cache.bqrelse(bp);
        return bp;
    }

    @Benchmark
    public Buf bkvasyncValidated() {
        state.cache.kvabio.bkvasync(validated);
        return validated;
    }
}
