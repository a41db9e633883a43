package org.bufcached.daemon.net;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.GoRequest;
import org.bufcached.protocol.InvalidOptionException;
import org.bufcached.protocol.MetaContextRequest;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReplies;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.OptionRequest;
import org.bufcached.protocol.ServerGreeting;
import org.bufcached.protocol.server.RequestDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed newstyle handshake of one connection: greeting, client flags, then
 * option haggling until NBD_OPT_EXPORT_NAME or a successful NBD_OPT_GO, when the
 * pipeline switches to the transmission phase. Option errors are answered and the
 * next option parsed; only protocol violations and the handshake timeout close
 * the connection, each with a log line.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<Object> {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);
    private static final int HANDSHAKE_FLAGS = Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES;
    /** The id under which base:allocation is selected; any value is allowed, it is opaque to clients. */
    static final int ALLOCATION_CONTEXT_ID = 1;

    private final ExportRegistry exports;
    private final Connections connections;
    private final TransmissionHandler.Factory transmission;
    private final long timeoutMillis;
    private final ConnectionContext connection;
    /** The TCP client's address, checked against each export's allow list; null on a Unix socket. */
    private final InetAddress tcpClient;

    private ScheduledFuture<?> timeout;
    private boolean flagsReceived;
    private boolean noZeroes;
    private boolean structuredReplies;
    /** Export name of the last NBD_OPT_SET_META_CONTEXT that selected base:allocation, or null. */
    private String allocationContextExport;

    HandshakeHandler(ExportRegistry exports, Connections connections, TransmissionHandler.Factory transmission,
                     long timeoutMillis, ConnectionContext connection, InetAddress tcpClient) {
        this.exports = exports;
        this.connections = connections;
        this.transmission = transmission;
        this.timeoutMillis = timeoutMillis;
        this.connection = connection;
        this.tcpClient = tcpClient;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        connections.add(ctx.channel());
        ctx.writeAndFlush(new ServerGreeting(HANDSHAKE_FLAGS));
        if (timeoutMillis > 0) {
            timeout = ctx.executor().schedule(() -> fail(ctx, HandshakeFailure.TIMEOUT,
                    "no transmission phase within " + timeoutMillis + " ms"),
                    timeoutMillis, TimeUnit.MILLISECONDS);
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimeout();
        super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ClientFlags) {
            clientFlags(ctx, (ClientFlags) msg);
        } else if (msg instanceof OptionRequest) {
            option(ctx, (OptionRequest) msg);
        }
    }

    private void clientFlags(ChannelHandlerContext ctx, ClientFlags flags) {
        int unexpected = flags.unexpected(HANDSHAKE_FLAGS);
        if (unexpected != 0) {
            fail(ctx, HandshakeFailure.UNKNOWN_CLIENT_FLAGS, "unknown client flags 0x" + Integer.toHexString(unexpected));
            return;
        }
        flagsReceived = true;
        noZeroes = flags.noZeroes();
    }

    private void option(ChannelHandlerContext ctx, OptionRequest req) {
        int option = req.option();
        if (!flagsReceived) {
            fail(ctx, HandshakeFailure.PROTOCOL_ERROR, "option before client flags");
            return;
        }
        if (req.oversized()) {
            if (option == Nbd.NBD_OPT_EXPORT_NAME) {
                fail(ctx, HandshakeFailure.PROTOCOL_ERROR, "NBD_OPT_EXPORT_NAME with " + req.declaredLength()
                        + " bytes of name");
            } else {
                error(ctx, option, Nbd.NBD_REP_ERR_TOO_BIG, "option data of " + req.declaredLength() + " bytes is too large");
            }
            return;
        }
        if (connections.shuttingDown() && option != Nbd.NBD_OPT_ABORT) {
            error(ctx, option, Nbd.NBD_REP_ERR_SHUTDOWN, "server is shutting down");
            return;
        }
        ByteBuf data = req.content();
        try {
            switch (option) {
                case Nbd.NBD_OPT_EXPORT_NAME:
                    exportName(ctx, data.toString(StandardCharsets.UTF_8));
                    break;
                case Nbd.NBD_OPT_ABORT:
                    ctx.writeAndFlush(ack(option)).addListener(ChannelFutureListener.CLOSE);
                    break;
                case Nbd.NBD_OPT_LIST:
                    list(ctx, data);
                    break;
                case Nbd.NBD_OPT_STARTTLS:
                    if (data.isReadable()) {
                        error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
                    } else {
                        error(ctx, option, Nbd.NBD_REP_ERR_POLICY, "TLS is not configured on this server");
                    }
                    break;
                case Nbd.NBD_OPT_INFO:
                case Nbd.NBD_OPT_GO:
                    infoOrGo(ctx, option, GoRequest.parse(data));
                    break;
                case Nbd.NBD_OPT_STRUCTURED_REPLY:
                    if (data.isReadable()) {
                        error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else {
                        structuredReplies = true;
                        ctx.writeAndFlush(ack(option));
                    }
                    break;
                case Nbd.NBD_OPT_LIST_META_CONTEXT:
                case Nbd.NBD_OPT_SET_META_CONTEXT:
                    metaContext(ctx, option, data);
                    break;
                default:
                    error(ctx, option, Nbd.NBD_REP_ERR_UNSUP, Nbd.optionName(option) + " is not supported");
            }
        } catch (InvalidOptionException e) {
            error(ctx, option, Nbd.NBD_REP_ERR_INVALID, e.getMessage());
        }
    }

    private void exportName(ChannelHandlerContext ctx, String name) {
        Export export = exports.find(name);
        if (export == null || !allowed(export)) {
            // NBD_OPT_EXPORT_NAME has no error reply: the spec leaves only a hard disconnect.
            fail(ctx, export == null ? HandshakeFailure.UNKNOWN_EXPORT : HandshakeFailure.FORBIDDEN_EXPORT,
                    "NBD_OPT_EXPORT_NAME for " + (export == null ? "unknown" : "forbidden") + " export '" + name + "'");
            return;
        }
        ExportConnections entered = connections.enter(export.store(), ctx.channel());
        if (entered == null) {
            fail(ctx, HandshakeFailure.EXPORT_CONNECTION_LIMIT, "NBD_OPT_EXPORT_NAME for export '" + name
                    + "', which takes no more connections");
            return;
        }
        ctx.write(new ExportNameReply(export.size(), export.transmissionFlags(structuredReplies), !noZeroes));
        enterTransmission(ctx, export, name, entered);
    }

    private void list(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            error(ctx, Nbd.NBD_OPT_LIST, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        ByteBufAllocator alloc = ctx.alloc();
        for (Export e : exports.all()) {
            if (!allowed(e)) {
                continue;
            }
            ctx.write(new OptionReply(Nbd.NBD_OPT_LIST, Nbd.NBD_REP_SERVER,
                    OptionReplies.server(alloc, e.name(), e.description())));
        }
        ctx.writeAndFlush(ack(Nbd.NBD_OPT_LIST));
    }

    private void infoOrGo(ChannelHandlerContext ctx, int option, GoRequest go) {
        Export export = exports.find(go.exportName());
        if (export == null) {
            error(ctx, option, Nbd.NBD_REP_ERR_UNKNOWN, "unknown export '" + go.exportName() + "'");
            return;
        }
        if (!allowed(export)) {
            error(ctx, option, Nbd.NBD_REP_ERR_POLICY, "export '" + go.exportName() + "' does not allow " + tcpClient);
            return;
        }
        ExportConnections entered = null;
        if (option == Nbd.NBD_OPT_GO) {
            // Taken before any reply is written, so a refusal is still a clean option error.
            entered = connections.enter(export.store(), ctx.channel());
            if (entered == null) {
                error(ctx, option, Nbd.NBD_REP_ERR_POLICY, "export '" + go.exportName() + "' takes no more connections");
                return;
            }
        }
        ByteBufAllocator alloc = ctx.alloc();
        ctx.write(info(option, OptionReplies.infoExport(alloc, export.size(), export.transmissionFlags(structuredReplies))));
        if (go.requested(Nbd.NBD_INFO_NAME)) {
            ctx.write(info(option, OptionReplies.infoName(alloc, export.name())));
        }
        if (go.requested(Nbd.NBD_INFO_DESCRIPTION) && !export.description().isEmpty()) {
            ctx.write(info(option, OptionReplies.infoDescription(alloc, export.description())));
        }
        // Sent whether asked or not: the spec lets a server volunteer it, and clients that
        // do not understand it ignore it.
        var bs = export.blockSizes();
        ctx.write(info(option, OptionReplies.infoBlockSize(alloc,
                new OptionReplies.BlockSize(bs.minimum(), bs.preferred(), bs.maxPayload()))));
        if (option == Nbd.NBD_OPT_INFO) {
            ctx.writeAndFlush(ack(option));
            return;
        }
        ctx.write(ack(option));
        enterTransmission(ctx, export, go.exportName(), entered);
    }

    private void metaContext(ChannelHandlerContext ctx, int option, ByteBuf data) throws InvalidOptionException {
        boolean set = option == Nbd.NBD_OPT_SET_META_CONTEXT;
        if (set) {
            // Setting replaces the previous selection even when it fails.
            allocationContextExport = null;
        }
        if (!structuredReplies) {
            error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "structured replies must be negotiated first");
            return;
        }
        MetaContextRequest req = MetaContextRequest.parse(data);
        if (exports.find(req.exportName()) == null) {
            error(ctx, option, Nbd.NBD_REP_ERR_UNKNOWN, "unknown export '" + req.exportName() + "'");
            return;
        }
        boolean allocation = set ? MetaContexts.selects(req.queries()) : MetaContexts.lists(req.queries());
        if (allocation) {
            ctx.write(new OptionReply(option, Nbd.NBD_REP_META_CONTEXT,
                    OptionReplies.metaContext(ctx.alloc(), set ? ALLOCATION_CONTEXT_ID : 0, Nbd.BASE_ALLOCATION)));
            if (set) {
                allocationContextExport = req.exportName();
            }
        }
        ctx.writeAndFlush(ack(option));
    }

    private void enterTransmission(ChannelHandlerContext ctx, Export export, String requestedName,
                                   ExportConnections exportConnections) {
        cancelTimeout();
        // The context applies only if it was selected for the name used to enter transmission.
        int contextId = requestedName.equals(allocationContextExport) ? ALLOCATION_CONTEXT_ID : Session.NO_CONTEXT;
        Session session = new Session(export, structuredReplies, contextId, connection, exportConnections);
        ConnectionLog.opened(connection, export.name(), structuredReplies);
        // Order matters: the new handler must be in place before the decoder hands over the
        // bytes it already holds, which may be pipelined requests.
        ctx.pipeline().replace(this, "transmission", transmission.create(session));
        ctx.pipeline().replace("decoder", "decoder", new RequestDecoder(export.blockSizes().maxPayload()));
        ctx.channel().flush();
    }

    private boolean allowed(Export export) {
        return tcpClient == null || export.allows(tcpClient);
    }

    private static OptionReply info(int option, ByteBuf data) {
        return new OptionReply(option, Nbd.NBD_REP_INFO, data);
    }

    private static OptionReply ack(int option) {
        return new OptionReply(option, Nbd.NBD_REP_ACK, Unpooled.EMPTY_BUFFER);
    }

    private static void error(ChannelHandlerContext ctx, int option, int type, String message) {
        ctx.writeAndFlush(new OptionReply(option, type, Unpooled.copiedBuffer(message, StandardCharsets.UTF_8)));
    }

    private void fail(ChannelHandlerContext ctx, HandshakeFailure failure, String reason) {
        LOG.warn("{} {} {} {}", value("event", "handshake failure"), connection, keyValue("failure", failure.label()),
                keyValue("reason", reason));
        connections.handshakeFailed(failure);
        cancelTimeout();
        ctx.close();
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            Throwable reason = cause.getCause() != null ? cause.getCause() : cause;
            fail(ctx, HandshakeFailure.PROTOCOL_ERROR, String.valueOf(reason.getMessage()));
        } else if (cause instanceof IOException) {
            fail(ctx, HandshakeFailure.IO_ERROR, "I/O error: " + cause.getMessage());
        } else {
            LOG.error("handshake failed {}", connection, cause);
            ctx.close();
        }
    }
}
