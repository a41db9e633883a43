package org.bufcached.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Loopback TLS-PSK for tests: a server whose handler records the handshake and
 * echoes what it receives, and clients that report what comes back.
 */
final class PskPeers implements AutoCloseable {
    /** What one end saw: how its handshake ended, and the bytes it received. */
    static final class End extends ChannelInboundHandlerAdapter {
        final CompletableFuture<SslHandshakeCompletionEvent> handshake = new CompletableFuture<>();
        final ByteBuf received = Unpooled.buffer();
        final CompletableFuture<Void> closed = new CompletableFuture<>();
        private final boolean echo;
        volatile Channel channel;

        End(boolean echo) {
            this.echo = echo;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            ctx.fireChannelActive();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent) {
                handshake.complete((SslHandshakeCompletionEvent) evt);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf data = (ByteBuf) msg;
            synchronized (received) {
                received.writeBytes(data, data.readerIndex(), data.readableBytes());
            }
            if (echo) {
                ctx.writeAndFlush(data);
            } else {
                data.release();
            }
        }

        int receivedBytes() {
            synchronized (received) {
                return received.readableBytes();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed.complete(null);
        }
    }

    private final EventLoopGroup group = new NioEventLoopGroup(2);
    private final Channel server;
    final CompletableFuture<End> accepted = new CompletableFuture<>();
    final CompletableFuture<PskTlsHandler> serverHandler = new CompletableFuture<>();

    PskPeers(PskKeys keys) {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        PskTlsHandler tls = PskTlsHandler.server(keys);
                        End end = new End(true);
                        ch.pipeline().addLast(tls, end);
                        serverHandler.complete(tls);
                        accepted.complete(end);
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** A client whose pipeline is {@code handler} (null: raw bytes) then a recording end. */
    End connect(Supplier<ChannelHandler> handler) {
        End end = new End(false);
        end.channel = new Bootstrap().group(group).channel(NioSocketChannel.class).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (handler != null) {
                    ch.pipeline().addLast(handler.get());
                }
                ch.pipeline().addLast(end);
            }
        }).connect(server.localAddress()).syncUninterruptibly().channel();
        return end;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
