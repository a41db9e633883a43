package org.bufcached.daemon.io;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;

/**
 * The I/O engine: which Netty transport the event loops run, and how they do file
 * I/O. {@code io_uring} uses one ring per loop for sockets and files alike;
 * {@code epoll} and {@code nio} serve sockets with their transport and hand file
 * operations to a small pool (the fallback engine). {@code auto} takes io_uring
 * where the kernel allows it, epoll otherwise, NIO last.
 */
public enum IoEngine {
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private final String label;

    IoEngine(String label) {
        this.label = label;
    }

    /** The name used in configuration, logs and metrics. */
    public String label() {
        return label;
    }

    /**
     * The engine for a configured name ({@code auto}, {@code io_uring}, {@code epoll},
     * {@code nio}). An engine asked for by name that cannot run here is an error
     * that says why; {@code auto} falls back quietly and {@link #why} tells.
     */
    public static IoEngine choose(String configured) {
        String name = configured.toLowerCase(Locale.ROOT);
        switch (name) {
            case "auto":
                return IoUring.isAvailable() ? IO_URING : Epoll.isAvailable() ? EPOLL : NIO;
            case "io_uring":
                require(IoUring.isAvailable(), "io_uring", IoUring.unavailabilityCause());
                return IO_URING;
            case "epoll":
                require(Epoll.isAvailable(), "epoll", Epoll.unavailabilityCause());
                return EPOLL;
            case "nio":
                return NIO;
            default:
                throw new IllegalArgumentException("unknown I/O engine '" + configured
                        + "' (auto, io_uring, epoll or nio)");
        }
    }

    private static void require(boolean available, String name, Throwable cause) {
        if (!available) {
            throw new IllegalStateException("the " + name + " engine cannot run here: "
                    + (cause == null ? "not available" : cause.getMessage()));
        }
    }

    /** Why {@code auto} did not take io_uring (or epoll), for the start-up log; empty when it did. */
    public static String why(IoEngine chosen) {
        if (chosen == IO_URING || IoUring.unavailabilityCause() == null) {
            return "";
        }
        return "io_uring unavailable: " + IoUring.unavailabilityCause().getMessage();
    }

    /** Whether sockets systemd passed in (socket activation) can be served. */
    public boolean adoptsSockets() {
        return this == EPOLL;
    }

    /** Unix domain sockets need a native transport. */
    public boolean servesUnixSockets() {
        return this != NIO;
    }

    public EventLoopGroup newGroup(int threads, ThreadFactory factory) {
        return new MultiThreadIoEventLoopGroup(threads, factory, handlerFactory());
    }

    private IoHandlerFactory handlerFactory() {
        switch (this) {
            case IO_URING:
                return IoUringIoHandler.newFactory();
            case EPOLL:
                return EpollIoHandler.newFactory();
            default:
                return NioIoHandler.newFactory();
        }
    }

    public Class<? extends ServerChannel> tcpServerChannel() {
        switch (this) {
            case IO_URING:
                return IoUringServerSocketChannel.class;
            case EPOLL:
                return EpollServerSocketChannel.class;
            default:
                return NioServerSocketChannel.class;
        }
    }

    public Class<? extends ServerChannel> unixServerChannel() {
        switch (this) {
            case IO_URING:
                return IoUringServerDomainSocketChannel.class;
            case EPOLL:
                return EpollServerDomainSocketChannel.class;
            default:
                throw new IllegalStateException("Unix domain sockets need the io_uring or epoll engine");
        }
    }

    /**
     * The file I/O of {@code loop}, a loop of a group this engine made; call off the
     * loop. {@code writeBack} runs the fallback engine's write-backs (unused by io_uring).
     */
    public FileIo fileIo(EventLoop loop, BlockingPool pool, BlockingPool writeBack) {
        if (this == IO_URING) {
            return IoUringFileIo.register((IoEventLoop) loop, pool);
        }
        return new PoolFileIo(loop, pool, writeBack);
    }

    @Override
    public String toString() {
        return label;
    }
}
