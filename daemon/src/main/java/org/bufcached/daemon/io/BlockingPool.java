package org.bufcached.daemon.io;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The few threads that make the system calls an event loop must not wait for:
 * every file operation of the fallback engine, and, under io_uring, only what no
 * ring operation covers (mmap, lseek). Its queue is unbounded so that submitting
 * never blocks a loop; connections bound what they queue by their limit on
 * requests in flight.
 *
 * <p>No task here ever waits for another task of this pool: each makes one system
 * call and posts the result back to its loop.
 */
public final class BlockingPool implements AutoCloseable {
    private final ThreadPoolExecutor pool;
    private final String name;

    public BlockingPool(int threads, String name) {
        this.name = name;
        pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(name, true));
    }

    public void execute(Runnable task) {
        pool.execute(task);
    }

    public String name() {
        return name;
    }

    public int threads() {
        return pool.getMaximumPoolSize();
    }

    /** Tasks queued or running now. */
    public int backlog() {
        return pool.getQueue().size() + pool.getActiveCount();
    }

    /**
     * Stops taking tasks and waits up to {@code millis} for the queued ones; a call
     * stuck in the kernel (a hung disk) is left behind, on a daemon thread.
     */
    public void close(long millis) {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(10_000);
    }
}
