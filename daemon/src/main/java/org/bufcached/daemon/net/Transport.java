package org.bufcached.daemon.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.util.concurrent.ThreadFactory;

/**
 * The Netty transport: epoll where the native library loads, NIO otherwise. Unix
 * domain sockets need epoll.
 */
public final class Transport {
    private final boolean epoll = Epoll.isAvailable();

    public boolean isEpoll() {
        return epoll;
    }

    public EventLoopGroup newGroup(int threads, ThreadFactory factory) {
        return epoll ? new EpollEventLoopGroup(threads, factory) : new NioEventLoopGroup(threads, factory);
    }

    public Class<? extends ServerChannel> tcpServerChannel() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends ServerChannel> unixServerChannel() {
        requireEpoll("Unix domain sockets");
        return EpollServerDomainSocketChannel.class;
    }

    /** Fails with a message naming {@code feature} unless the epoll transport loaded. */
    public void requireEpoll(String feature) {
        if (!epoll) {
            throw new IllegalStateException("the epoll transport, needed for " + feature + ", did not load: "
                    + Epoll.unavailabilityCause());
        }
    }

    public String name() {
        return epoll ? "epoll" : "nio";
    }
}
