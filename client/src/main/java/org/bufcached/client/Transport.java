package org.bufcached.client;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Chooses the transport: epoll where it is available (it is also the only way to
 * Unix sockets in Netty 4.1), NIO otherwise. Event loop threads are daemons so
 * that a forgotten client never keeps a command-line JVM alive.
 */
public final class Transport {
    private static EventLoopGroup shared;

    private Transport() {
    }

    /** A new group of {@code threads} event loops; the caller shuts it down. */
    public static EventLoopGroup newGroup(int threads) {
        DefaultThreadFactory factory = new DefaultThreadFactory("nbd-client", true);
        return Epoll.isAvailable() ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
    }

    /** The group used when {@link ClientOptions#group()} is null: one event loop per core, created on first use. */
    public static synchronized EventLoopGroup shared() {
        if (shared == null) {
            shared = newGroup(Runtime.getRuntime().availableProcessors());
        }
        return shared;
    }

    /**
     * Stops the shared group's event loops, if there is one, and waits for them: for a
     * command-line JVM about to exit. A thread waiting in epoll_wait is in native code,
     * and the JVM's exit waits up to 300 ms for such threads before it gives up on them.
     */
    public static synchronized void shutdownShared() {
        if (shared != null) {
            shutdown(shared);
            shared = null;
        }
    }

    /** Stops {@code group} at once (no quiet period) and waits a second at most for its threads to end. */
    public static void shutdown(EventLoopGroup group) {
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
    }

    static Class<? extends Channel> channelClass(EventLoopGroup group, boolean unix) {
        if (group instanceof EpollEventLoopGroup) {
            return unix ? EpollDomainSocketChannel.class : EpollSocketChannel.class;
        }
        if (unix) {
            throw new UnsupportedOperationException("Unix sockets need the epoll transport, which is not available: "
                    + Epoll.unavailabilityCause());
        }
        return NioSocketChannel.class;
    }
}
