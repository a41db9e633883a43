package org.bufcached.daemon.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line when a connection opens and one when it closes, with the peer, the
 * export it used, how long it lasted and the bytes each way. Sits at the head of
 * the pipeline so it sees raw bytes.
 */
final class ConnectionLog extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger("org.bufcached.daemon.connections");
    /** The export chosen in the handshake, for the closing line. */
    static final AttributeKey<String> EXPORT = AttributeKey.valueOf("bufcached.export");

    private final String peer;
    private long openedNanos;
    private long bytesIn;
    private long bytesOut;

    ConnectionLog(String peer) {
        this.peer = peer;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        openedNanos = System.nanoTime();
        LOG.info("connection opened: peer={} local={}", peer, ctx.channel().localAddress());
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf) {
            bytesIn += ((ByteBuf) msg).readableBytes();
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof ByteBuf) {
            bytesOut += ((ByteBuf) msg).readableBytes();
        }
        super.write(ctx, msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        String export = ctx.channel().attr(EXPORT).get();
        long millis = (System.nanoTime() - openedNanos) / 1_000_000;
        LOG.info("connection closed: peer={} export={} duration={}ms bytes_in={} bytes_out={}",
                peer, export == null ? "-" : export, millis, bytesIn, bytesOut);
        super.channelInactive(ctx);
    }
}
