package org.bufcached.daemon.export;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The bounded pool of threads that do the blocking work event loops must not:
 * positioned reads and writes, page-ins, fallocate, write-back and fdatasync.
 * Its queue is unbounded because submitting must never block an event loop;
 * connections bound what they queue by their limit on requests in flight.
 */
public final class IoWorkers implements AutoCloseable {
    private final ThreadPoolExecutor pool;

    public IoWorkers(int threads) {
        pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("bufcached-io", true));
    }

    public ExecutorService executor() {
        return pool;
    }

    public void execute(Runnable task) {
        pool.execute(task);
    }

    public int threads() {
        return pool.getMaximumPoolSize();
    }

    /** Lets queued work finish, waiting up to 30 seconds. */
    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
