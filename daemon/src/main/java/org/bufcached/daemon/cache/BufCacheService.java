package org.bufcached.daemon.cache;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.CacheConfig;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoLoops;

/**
 * The running buffer cache: the {@link BufCache}, its two flush daemons, the
 * event loops bound to their queue sets, and its meters.
 */
public final class BufCacheService implements AutoCloseable {
    /** How often an event loop marks a quiescent point for window reclamation. */
    private static final long CHECKPOINT_MILLIS = 10;
    /** Threads beyond the loops, flushers and pool that may touch buffer memory (tests, tools). */
    private static final int SPARE_THREADS = 64;

    private final BufCache cache;
    private final IoLoops loops;
    private final BufDaemon bufDaemon;
    private final BufDaemon bufDaemonHw;
    private final List<Future<?>> checkpoints = new ArrayList<>();

    public BufCacheService(CacheConfig config, IoLoops loops, MeterRegistry registry) {
        this.loops = loops;
        warnIfHeapTooSmall(config);
        int capacity = loops.all().size() + 2 + loops.poolThreads() + SPARE_THREADS;
        this.cache = new BufCache(config, loops.all().size(), capacity, loops);
        DistributionSummary clusterSizes = DistributionSummary.builder("bufcached.cache.cluster.size")
                .description("Bytes per clustered write-back (cluster_awrite)")
                .baseUnit("bytes")
                .publishPercentileHistogram()
                .register(registry);
        this.bufDaemon = new BufDaemon(cache, false, clusterSizes::record);
        this.bufDaemonHw = new BufDaemon(cache, true, clusterSizes::record);
        CacheMeters.register(registry, cache, bufDaemon, bufDaemonHw);
    }

    /** About what one buffer header costs on the heap, with its hash entry and cpumask. */
    private static final long HEADER_BYTES = 256;
    /** The heap the rest of the daemon needs beside the headers (connections, metrics, Netty). */
    private static final long BASE_HEAP = 64L << 20;

    private static void warnIfHeapTooSmall(CacheConfig config) {
        long headers = config.maxbufspace() / config.bufferSize();
        long needed = BASE_HEAP + headers * HEADER_BYTES;
        long max = Runtime.getRuntime().maxMemory();
        if (max < needed) {
            org.slf4j.LoggerFactory.getLogger(BufCacheService.class).warn("the heap may be too small: {} buffer"
                    + " headers (cache.size / buffer-size) need about {} MiB, -Xmx is {} MiB; raise it with"
                    + " BUFCACHED_JAVA_OPTS", headers, needed >> 20, max >> 20);
        }
    }

    public BufCache cache() {
        return cache;
    }

    /**
     * Binds each event loop to its own queue set and has it pass a quiescent point
     * every few milliseconds; then starts the flush daemons.
     */
    public void start() {
        int i = 0;
        for (FileIo io : loops.all()) {
            int index = i++;
            EventExecutor loop = io.loop();
            loop.submit(() -> cache.bindCurrentThread(index)).syncUninterruptibly();
            checkpoints.add(loop.scheduleAtFixedRate(() -> cache.threads.checkpoint(),
                    CHECKPOINT_MILLIS, CHECKPOINT_MILLIS, TimeUnit.MILLISECONDS));
        }
        bufDaemon.start();
        bufDaemonHw.start();
    }

    /** Applies changed watermarks and tunables without a restart. */
    public void retune(CacheConfig config) {
        cache.space.retune(config);
        cache.kva.setMaxMapped(config.maxMapped());
        cache.space.bd_wakeup_all();
    }

    @Override
    public void close() {
        checkpoints.forEach(f -> f.cancel(false));
        bufDaemon.stop();
        bufDaemonHw.stop();
        cache.close();
    }
}
