package org.bufcached.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A datagram socket standing in for systemd's NOTIFY_SOCKET: collects what the daemon sends. */
final class NotifySocket implements AutoCloseable {
    private final EventLoopGroup loop = new EpollEventLoopGroup(1);
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final Channel channel;

    /** Binds {@code address}: a path, or "\0name" for an abstract socket. */
    NotifySocket(String address) {
        channel = new Bootstrap().group(loop).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
                        messages.add(packet.content().toString(StandardCharsets.UTF_8));
                    }
                })
                .bind(new DomainSocketAddress(address)).syncUninterruptibly().channel();
    }

    /** The next datagram; fails after a generous bound rather than hanging the build. */
    String next() throws InterruptedException {
        String message = messages.poll(10, TimeUnit.SECONDS);
        assertThat(message).as("a notification").isNotNull();
        return message;
    }

    /** Skips datagrams until one starts with {@code prefix}, and returns it. */
    String nextStartingWith(String prefix) throws InterruptedException {
        String message;
        do {
            message = next();
        } while (!message.startsWith(prefix));
        return message;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
