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
    private final List<FileIo> loops = new ArrayList<>();
    private final AtomicInteger next = new AtomicInteger();

    private IoLoops(IoEngine engine, BlockingPool pool) {
        this.engine = engine;
        this.pool = pool;
    }

    /** Gives every loop of {@code group} its file I/O; call off the loops. */
    public static IoLoops attach(IoEngine engine, EventLoopGroup group, BlockingPool pool) {
        IoLoops l = new IoLoops(engine, pool);
        for (EventExecutor e : group) {
            EventLoop loop = (EventLoop) e;
            FileIo io = engine.fileIo(loop, pool);
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

    @Override
    public void close() {
        pool.close();
    }
}
