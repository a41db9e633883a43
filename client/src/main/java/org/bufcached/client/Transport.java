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
