package org.bufcached.daemon.cache;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.CacheConfig;

/**
 * The running buffer cache: the {@link BufCache}, its two flush daemons, the
 * event loops bound to their queue sets, and its meters.
 */
public final class BufCacheService implements AutoCloseable {
    /** How often an event loop marks a quiescent point for window reclamation. */
    private static final long CHECKPOINT_MILLIS = 10;

    private final BufCache cache;
    private final BufDaemon bufDaemon;
    private final BufDaemon bufDaemonHw;
    private final List<Future<?>> checkpoints = new ArrayList<>();
    private final ExecutorService writeBack;
    private final ExecutorService writeBackHw;

    /**
     * {@code io} serves requests (page-ins, pwrite, fallocate, fdatasync). Each
     * flush class gets write-back workers of its own: a request must never queue
     * behind the flushers' disk-bound writes, and a stalled heavy store must not
     * hold up light write-back.
     */
    public BufCacheService(CacheConfig config, int eventLoops, Executor io, MeterRegistry registry) {
        int writers = Math.max(2, config.ioWorkers() / 2);
        int threads = eventLoops + config.ioWorkers() + 2 * writers + 2;
        if (threads > WorkerThreads.MAX_THREADS) {
            throw new IllegalArgumentException(threads + " threads would touch buffer memory (" + eventLoops
                    + " event loops, " + config.ioWorkers() + " I/O workers, 2 x " + writers + " write-back workers, "
                    + "2 flushers); the cpumask holds " + WorkerThreads.MAX_THREADS + ": lower cache.io-workers");
        }
        this.cache = new BufCache(config, eventLoops);
        this.writeBack = writeBackPool(writers, "bufcached-writeback");
        this.writeBackHw = writeBackPool(writers, "bufcached-writeback-hw");
        DistributionSummary clusterSizes = DistributionSummary.builder("bufcached.cache.cluster.size")
                .description("Bytes per clustered write-back (cluster_awrite)")
                .baseUnit("bytes")
                .publishPercentileHistogram()
                .register(registry);
        this.bufDaemon = new BufDaemon(cache, false, writeBack, clusterSizes::record);
        this.bufDaemonHw = new BufDaemon(cache, true, writeBackHw, clusterSizes::record);
        CacheMeters.register(registry, cache, bufDaemon, bufDaemonHw);
    }

    private static ExecutorService writeBackPool(int threads, String name) {
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(name, true));
    }

    public BufCache cache() {
        return cache;
    }

    /**
     * Binds each event loop to its own queue set and has it pass a quiescent point
     * every few milliseconds; then starts the flush daemons.
     */
    public void start(EventLoopGroup loops) {
        int i = 0;
        for (EventExecutor loop : loops) {
            int index = i++;
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
        for (ExecutorService pool : new ExecutorService[] {writeBack, writeBackHw}) {
            pool.shutdown();
            try {
                pool.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        cache.close();
    }
}
