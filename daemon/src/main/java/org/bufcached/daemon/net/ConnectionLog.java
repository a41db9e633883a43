package org.bufcached.daemon.net;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import org.bufcached.protocol.TransmissionMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection lines, each with the connection's id and peer
 * ({@link ConnectionContext}): "opened" when the handshake settles on an export
 * (so the line carries it), "closed" for every connection, with the export it
 * used, how long it lasted, the bytes each way and the requests and errors
 * answered. The accept itself is at DEBUG. Sits at the head of the pipeline so
 * it sees raw bytes.
 */
final class ConnectionLog extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger("org.bufcached.daemon.connections");

    private final ConnectionContext connection;
    private long openedNanos;
    private long bytesIn;
    private long bytesOut;

    ConnectionLog(ConnectionContext connection) {
        this.connection = connection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        openedNanos = System.nanoTime();
        LOG.debug("connection {} {} {}", value("event", "accepted"), connection,
                keyValue("local", String.valueOf(ctx.channel().localAddress()).replaceFirst("^/", "")));
        super.channelActive(ctx);
    }

    /** The handshake chose an export: the connection is open for requests. */
    static void opened(ConnectionContext connection, String export, TransmissionMode mode) {
        connection.export(export);
        LOG.info("connection {} {} {} {}", value("event", "opened"), connection,
                keyValue("structured_replies", mode.chunks()), keyValue("extended_headers", mode.extendedHeaders()));
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

    long id() {
        return connection.id();
    }

    /** The connection as the admin socket lists it; on the connection's event loop. */
    ConnectionInfo info() {
        return new ConnectionInfo(connection.id(), connection.peer(), connection.export(), connection.identity(),
                bytesIn, bytesOut, connection.requests(), connection.errors(),
                (System.nanoTime() - openedNanos) / 1_000_000);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        long millis = (System.nanoTime() - openedNanos) / 1_000_000;
        LOG.info("connection {} {} {} {} {} {} {}", value("event", "closed"), connection,
                keyValue("duration_ms", millis), keyValue("bytes_in", bytesIn), keyValue("bytes_out", bytesOut),
                keyValue("requests", connection.requests()), keyValue("errors", connection.errors()));
        super.channelInactive(ctx);
    }
}
