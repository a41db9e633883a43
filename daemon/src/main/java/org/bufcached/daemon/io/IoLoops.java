package org.bufcached.daemon.io;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The event loops that serve requests, each with its {@link FileIo}. A loop finds
 * its own with {@link #current()}; work that starts elsewhere (a flusher, a timer,
 * shutdown) picks one with {@link #any()} and hops onto it.
 */
public final class IoLoops implements AutoCloseable {
    private static final FastThreadLocal<FileIo> CURRENT = new FastThreadLocal<>();

    private final IoEngine engine;
    private final BlockingPool pool;
    /** The fallback engine's lane for write-backs; null under io_uring. */
    private final BlockingPool writeBack;
    private final List<FileIo> loops = new ArrayList<>();
    private final AtomicInteger next = new AtomicInteger();

    private IoLoops(IoEngine engine, BlockingPool pool, BlockingPool writeBack) {
        this.engine = engine;
        this.pool = pool;
        this.writeBack = writeBack;
    }

    /**
     * Gives every loop of {@code group} its file I/O; call off the loops. The
     * fallback engine gets a write-back lane of half the pool's size, at least two
     * threads, so that a stalled slow store (held to half of them) leaves one.
     */
    public static IoLoops attach(IoEngine engine, EventLoopGroup group, BlockingPool pool) {
        return attach(engine, group, pool, java.util.function.UnaryOperator.identity());
    }

    /** As {@link #attach(IoEngine, EventLoopGroup, BlockingPool)}, each loop's file I/O wrapped by {@code decorate}. */
    public static IoLoops attach(IoEngine engine, EventLoopGroup group, BlockingPool pool,
                                 java.util.function.UnaryOperator<FileIo> decorate) {
        BlockingPool writeBack = engine == IoEngine.IO_URING ? null
                : new BlockingPool(Math.max(2, pool.threads() / 2), pool.name() + "-writeback");
        IoLoops l = new IoLoops(engine, pool, writeBack);
        for (EventExecutor e : group) {
            EventLoop loop = (EventLoop) e;
            FileIo io = decorate.apply(engine.fileIo(loop, pool, writeBack));
            loop.submit(() -> CURRENT.set(io)).syncUninterruptibly();
            l.loops.add(io);
        }
        return l;
    }

    /** The file I/O of the calling event loop, or null when not called on one of them. */
    public static FileIo current() {
        return CURRENT.getIfExists();
    }

    /** Some loop's file I/O, taking turns. */
    public FileIo any() {
        return loops.get(Math.floorMod(next.getAndIncrement(), loops.size()));
    }

    /** The calling loop's file I/O, or {@link #any()} from elsewhere. */
    public FileIo here() {
        FileIo io = current();
        return io != null ? io : any();
    }

    public List<FileIo> all() {
        return loops;
    }

    public IoEngine engine() {
        return engine;
    }

    public BlockingPool pool() {
        return pool;
    }

    /** The fallback engine's write-back lane, or null under io_uring. */
    public BlockingPool writeBackPool() {
        return writeBack;
    }

    /** Threads that may run write-backs at once: the fallback engine's lane, or the kernel's for io_uring. */
    public int writeBackThreads() {
        return writeBack != null ? writeBack.threads() : 4 * loops.size();
    }

    /** Every thread of this engine's pools (they touch no buffer memory, but count for the thread budget). */
    public int poolThreads() {
        return pool.threads() + (writeBack != null ? writeBack.threads() : 0);
    }

    @Override
    public void close() {
        pool.close();
        if (writeBack != null) {
            writeBack.close();
        }
    }
}
