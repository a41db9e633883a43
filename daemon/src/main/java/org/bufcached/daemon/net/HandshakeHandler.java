package org.bufcached.daemon.net;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.tls.ClientIdentity;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.GoRequest;
import org.bufcached.protocol.InvalidOptionException;
import org.bufcached.protocol.MetaContextRequest;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReplies;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.OptionRequest;
import org.bufcached.protocol.OversizedLengthException;
import org.bufcached.protocol.ServerGreeting;
import org.bufcached.protocol.TransmissionMode;
import org.bufcached.protocol.server.HandshakeDecoder;
import org.bufcached.protocol.server.PayloadMemory;
import org.bufcached.protocol.server.PayloadReceiver;
import org.bufcached.protocol.server.RequestDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed newstyle handshake of one connection: greeting, client flags, then
 * option haggling until NBD_OPT_EXPORT_NAME or a successful NBD_OPT_GO, when the
 * pipeline switches to the transmission phase. Option errors are answered and the
 * next option parsed; only protocol violations and the handshake timeout close
 * the connection, each with a log line.
 *
 * <p>TLS follows the specification's section "TLS support" under the connection's
 * {@link TlsPolicy}: NBD_OPT_STARTTLS is acknowledged in the clear, then the
 * policy puts a TLS handler in front of the codecs and option haggling starts
 * afresh (structured replies, extended headers and metadata contexts are
 * forgotten) once the TLS handshake reports success. The handshake timeout runs
 * on through the TLS handshake.
 *
 * <p>Extended headers (NBD_OPT_EXTENDED_HEADERS) are offered to every client that
 * asks, before or after structured replies, and take precedence over them: a
 * later NBD_OPT_STRUCTURED_REPLY gets NBD_REP_ERR_EXT_HEADER_REQD, as the spec
 * says, and NBD_OPT_EXPORT_NAME, which a client that negotiated them MUST NOT
 * send, ends the connection. Clients that do not ask keep compact headers.
 */
final class HandshakeHandler extends SimpleChannelInboundHandler<Object> {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);
    private static final int HANDSHAKE_FLAGS = Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES;

    private final ExportRegistry exports;
    private final Connections connections;
    private final TransmissionHandler.Factory transmission;
    private final PayloadMemory payloadMemory;
    /** Counts this connection among the listener's handshakes until it enters transmission or closes. */
    private HandshakeGate gate;
    private final long timeoutMillis;
    private final ConnectionContext connection;
    /** The TCP client's address, checked against each export's allow list; null on a Unix socket. */
    private final InetAddress tcpClient;
    private final TlsPolicy tls;

    private ScheduledFuture<?> timeout;
    private TlsPhase tlsPhase = TlsPhase.PLAINTEXT;
    /** The TLS handler STARTTLS put in the pipeline, until the handshake ends. */
    private ChannelHandler tlsHandler;
    /** Who the client proved to be in the TLS handshake; {@link ClientIdentity#ANONYMOUS} before. */
    private ClientIdentity identity = ClientIdentity.ANONYMOUS;
    /** The connection is being closed for a failure that is already logged. */
    private boolean failed;
    private boolean flagsReceived;
    private boolean noZeroes;
    private boolean structuredReplies;
    private boolean extendedHeaders;
    /** Export name of the last NBD_OPT_SET_META_CONTEXT that selected a context, or null. */
    private String contextsExport;
    /** What that NBD_OPT_SET_META_CONTEXT selected. */
    private MetaContexts.Selection contexts = MetaContexts.Selection.NONE;
    /** The refusals already logged for this connection (reply type and export), made on the first one. */
    private Set<String> refusalsLogged;

    /** {@code gate} has already admitted this connection; the handler makes it leave. */
    HandshakeHandler(ExportRegistry exports, Connections connections, TransmissionHandler.Factory transmission,
                     PayloadMemory payloadMemory, HandshakeGate gate, long timeoutMillis,
                     ConnectionContext connection, InetAddress tcpClient, TlsPolicy tls) {
        this.exports = exports;
        this.connections = connections;
        this.transmission = transmission;
        this.payloadMemory = payloadMemory;
        this.gate = gate;
        this.timeoutMillis = timeoutMillis;
        this.connection = connection;
        this.tcpClient = tcpClient;
        this.tls = tls;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        connections.add(ctx.channel());
        ctx.writeAndFlush(new ServerGreeting(HANDSHAKE_FLAGS));
        if (timeoutMillis > 0) {
            timeout = ctx.executor().schedule(() -> timedOut(ctx), timeoutMillis, TimeUnit.MILLISECONDS);
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimeout();
        leaveHandshake();
        super.channelInactive(ctx);
    }

    private void leaveHandshake() {
        if (gate != null) {
            gate.leave(tcpClient);
            gate = null;
        }
    }

    private void timedOut(ChannelHandlerContext ctx) {
        if (tlsPhase == TlsPhase.HANDSHAKING) {
            connections.tlsHandshakeEnded(TlsHandshakeResult.TIMEOUT);
            fail(ctx, HandshakeFailure.TIMEOUT, "no transmission phase within " + timeoutMillis
                    + " ms (the TLS handshake did not finish)");
        } else {
            fail(ctx, HandshakeFailure.TIMEOUT, "no transmission phase within " + timeoutMillis + " ms");
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            return; // closing: options decoded from the same read are not answered
        }
        if (msg instanceof ClientFlags) {
            clientFlags(ctx, (ClientFlags) msg);
        } else if (msg instanceof OptionRequest) {
            option(ctx, (OptionRequest) msg);
        } else if (msg instanceof ByteBuf) {
            // What the replaced decoder still held: sent after NBD_OPT_STARTTLS without waiting for the reply.
            connections.tlsHandshakeEnded(TlsHandshakeResult.FAILURE);
            fail(ctx, HandshakeFailure.TLS_HANDSHAKE, "data after NBD_OPT_STARTTLS before its reply");
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent && tlsPhase == TlsPhase.HANDSHAKING && !failed) {
            tlsHandshakeCompleted(ctx, (SslHandshakeCompletionEvent) evt);
        }
        super.userEventTriggered(ctx, evt);
    }

    private void tlsHandshakeCompleted(ChannelHandlerContext ctx, SslHandshakeCompletionEvent event) {
        if (!event.isSuccess()) {
            connections.tlsHandshakeEnded(TlsHandshakeResult.FAILURE);
            fail(ctx, HandshakeFailure.TLS_HANDSHAKE, "TLS handshake failed: " + reason(event.cause()));
            return;
        }
        connections.tlsHandshakeEnded(TlsHandshakeResult.SUCCESS);
        connections.tlsPhase(ctx.channel(), TlsPhase.ENCRYPTED);
        tlsPhase = TlsPhase.ENCRYPTED;
        identity = tls.identity(tlsHandler);
        connection.identity(identity.toString());
        tlsHandler = null;
        LOG.debug("TLS established {} {}", connection, keyValue("identity", identity));
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
        if (tls.mode() == TlsPolicy.Mode.FORCED && tlsPhase != TlsPhase.ENCRYPTED
                && option != Nbd.NBD_OPT_STARTTLS && option != Nbd.NBD_OPT_ABORT) {
            tlsRequired(ctx, option, "TLS is required: NBD_OPT_STARTTLS must come first");
            return;
        }
        if (req.oversized()) {
            if (option == Nbd.NBD_OPT_EXPORT_NAME) {
                fail(ctx, HandshakeFailure.PROTOCOL_ERROR, "NBD_OPT_EXPORT_NAME with " + req.declaredLength()
                        + " bytes of name");
            } else {
                refuse(ctx, option, Nbd.NBD_REP_ERR_TOO_BIG, "-", "option data of " + req.declaredLength()
                        + " bytes is over the limit of " + NbdServer.MAX_OPTION_DATA);
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
                    startTls(ctx, data);
                    break;
                case Nbd.NBD_OPT_INFO:
                case Nbd.NBD_OPT_GO:
                    infoOrGo(ctx, option, GoRequest.parse(data));
                    break;
                case Nbd.NBD_OPT_STRUCTURED_REPLY:
                    if (data.isReadable()) {
                        error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else if (extendedHeaders) {
                        error(ctx, option, Nbd.NBD_REP_ERR_EXT_HEADER_REQD,
                                "extended headers were negotiated already and take precedence");
                    } else {
                        structuredReplies = true;
                        ctx.writeAndFlush(ack(option));
                    }
                    break;
                case Nbd.NBD_OPT_EXTENDED_HEADERS:
                    if (data.isReadable()) {
                        error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_EXTENDED_HEADERS takes no data");
                    } else if (extendedHeaders) {
                        // As qemu-nbd: a repeat is an error, and what was negotiated stays.
                        error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "extended headers were negotiated already");
                    } else {
                        extendedHeaders = true;
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
        if (extendedHeaders) {
            fail(ctx, HandshakeFailure.PROTOCOL_ERROR, "NBD_OPT_EXPORT_NAME after NBD_OPT_EXTENDED_HEADERS"
                    + " (a client that negotiated extended headers must use NBD_OPT_GO)");
            return;
        }
        Export export = exports.find(name);
        // NBD_OPT_EXPORT_NAME has no error reply: the spec leaves only a hard disconnect.
        if (export == null || !allowed(export)) {
            fail(ctx, export == null ? HandshakeFailure.UNKNOWN_EXPORT : HandshakeFailure.FORBIDDEN_EXPORT,
                    "NBD_OPT_EXPORT_NAME for " + (export == null ? "unknown" : "forbidden") + " export '" + name + "'");
            return;
        }
        if (!tlsSatisfied(export)) {
            fail(ctx, HandshakeFailure.TLS_REQUIRED, "NBD_OPT_EXPORT_NAME without TLS for export '" + name
                    + "', which requires TLS");
            return;
        }
        if (!identityAllowed(export)) {
            fail(ctx, HandshakeFailure.FORBIDDEN_IDENTITY, "NBD_OPT_EXPORT_NAME for export '" + name
                    + "', whose identities do not include " + identity);
            return;
        }
        ExportConnections entered = connections.enter(export.store(), ctx.channel());
        if (entered == null) {
            fail(ctx, HandshakeFailure.EXPORT_CONNECTION_LIMIT, "NBD_OPT_EXPORT_NAME for export '" + name
                    + "', which takes no more connections");
            return;
        }
        ctx.write(new ExportNameReply(export.size(), export.transmissionFlags(mode().chunks()), !noZeroes));
        enterTransmission(ctx, export, name, entered);
    }

    private void list(ChannelHandlerContext ctx, ByteBuf data) {
        if (data.isReadable()) {
            error(ctx, Nbd.NBD_OPT_LIST, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        ByteBufAllocator alloc = ctx.alloc();
        for (Export e : exports.all()) {
            // Only what this client could use: as nbd-server, TLS-only exports stay hidden from plaintext clients.
            if (!allowed(e) || !tlsSatisfied(e) || !identityAllowed(e)) {
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
            refuse(ctx, option, Nbd.NBD_REP_ERR_POLICY, export.name(),
                    "export '" + go.exportName() + "' does not allow " + tcpClient.getHostAddress());
            return;
        }
        if (!tlsSatisfied(export)) {
            tlsRequired(ctx, option, "export '" + go.exportName() + "' requires TLS");
            return;
        }
        if (!identityAllowed(export)) {
            LOG.warn("identity refused {} {} {} {}", connection, keyValue("option", Nbd.optionName(option)),
                    keyValue("requested_export", export.name()), keyValue("identity", identity));
            error(ctx, option, Nbd.NBD_REP_ERR_POLICY, "export '" + go.exportName() + "' does not allow "
                    + identity);
            return;
        }
        ExportConnections entered = null;
        if (option == Nbd.NBD_OPT_GO) {
            // Taken before any reply is written, so a refusal is still a clean option error.
            entered = connections.enter(export.store(), ctx.channel());
            if (entered == null) {
                refuse(ctx, option, Nbd.NBD_REP_ERR_POLICY, export.name(), "export '" + go.exportName()
                        + "' takes no more connections (limits.max-connections-per-export, or being removed)");
                return;
            }
        }
        ByteBufAllocator alloc = ctx.alloc();
        ctx.write(info(option, OptionReplies.infoExport(alloc, export.size(), export.transmissionFlags(mode().chunks()))));
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
            contextsExport = null;
            contexts = MetaContexts.Selection.NONE;
        }
        if (!mode().chunks()) {
            error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "structured replies or extended headers must be negotiated first");
            return;
        }
        MetaContextRequest req = MetaContextRequest.parse(data);
        Export export = exports.find(req.exportName());
        if (export == null || !tlsSatisfied(export)) {
            error(ctx, option, Nbd.NBD_REP_ERR_UNKNOWN, "unknown export '" + req.exportName() + "'");
            return;
        }
        if (set) {
            MetaContexts.Selection selected = MetaContexts.select(export.bitmaps(), req.queries());
            if (selected.allocation()) {
                metaContextReply(ctx, option, MetaContexts.ALLOCATION_ID, Nbd.BASE_ALLOCATION);
            }
            for (int i = 0; i < selected.bitmaps().length; i++) {
                metaContextReply(ctx, option, MetaContexts.Selection.bitmapId(i),
                        MetaContexts.contextName(selected.bitmaps()[i]));
            }
            if (!selected.isEmpty()) {
                contextsExport = req.exportName();
                contexts = selected;
            }
        } else {
            for (String name : MetaContexts.list(export.bitmaps(), req.queries())) {
                metaContextReply(ctx, option, 0, name);
            }
        }
        ctx.writeAndFlush(ack(option));
    }

    private static void metaContextReply(ChannelHandlerContext ctx, int option, int id, String name) {
        ctx.write(new OptionReply(option, Nbd.NBD_REP_META_CONTEXT, OptionReplies.metaContext(ctx.alloc(), id, name)));
    }

    private void enterTransmission(ChannelHandlerContext ctx, Export export, String requestedName,
                                   ExportConnections exportConnections) {
        cancelTimeout();
        leaveHandshake();
        // The contexts apply only if they were selected for the name used to enter transmission.
        MetaContexts.Selection selected = requestedName.equals(contextsExport) ? contexts : MetaContexts.Selection.NONE;
        TransmissionMode mode = mode();
        Session session = new Session(export, mode, selected, connection, exportConnections);
        ConnectionLog.opened(connection, export.name(), mode);
        // Order matters: the new handler must be in place before the decoder hands over the
        // bytes it already holds, which may be pipelined requests.
        ctx.pipeline().replace(this, "transmission", transmission.create(session));
        // Under TLS the decoder sees decrypted bytes, never the socket's: payloads are copied from them.
        PayloadReceiver receiver = tlsPhase == TlsPhase.PLAINTEXT ? PayloadReceiver.of(ctx.channel()) : null;
        ctx.pipeline().replace("decoder", "decoder",
                new RequestDecoder(export.blockSizes().maxPayload(), payloadMemory, mode.extendedHeaders(), receiver));
        ctx.channel().flush();
    }

    /** The headers negotiated so far: extended headers take precedence over structured replies. */
    private TransmissionMode mode() {
        return TransmissionMode.of(structuredReplies, extendedHeaders);
    }

    /**
     * The message of a TLS failure, with the innermost cause's when it says more:
     * BoringSSL reports a certificate its trust manager refused as "General
     * OpenSslEngine problem" and keeps the reason (revoked, expired...) below.
     */
    private static String reason(Throwable failure) {
        String message = failure.getMessage() != null ? failure.getMessage() : failure.getClass().getSimpleName();
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == failure || root.getMessage() == null || message.contains(root.getMessage()) ? message
                : message + " (" + root.getMessage() + ")";
    }

    /**
     * NBD_OPT_STARTTLS: acknowledged in the clear, then a TLS handler goes in
     * front of the codecs and a fresh decoder replaces the old one. Bytes the old
     * decoder still holds came in the clear after the option (a client that did
     * not wait for the reply, or someone injecting options): removing it hands
     * them to this handler, which closes the connection, so they can never pass
     * for options sent over TLS. (Netty's replace would hand them to the new
     * decoder.)
     */
    private void startTls(ChannelHandlerContext ctx, ByteBuf data) {
        int option = Nbd.NBD_OPT_STARTTLS;
        if (data.isReadable()) {
            error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
        } else if (tls.mode() == TlsPolicy.Mode.NOTLS) {
            refuse(ctx, option, Nbd.NBD_REP_ERR_POLICY, "-", "TLS is not configured on this server");
        } else if (tlsPhase != TlsPhase.PLAINTEXT) {
            error(ctx, option, Nbd.NBD_REP_ERR_INVALID, "TLS is already in use");
        } else {
            // Written before the TLS handler is in the pipeline, so it leaves in the clear.
            ctx.writeAndFlush(ack(option));
            // The spec: nothing negotiated before STARTTLS survives it.
            structuredReplies = false;
            extendedHeaders = false;
            contextsExport = null;
            contexts = MetaContexts.Selection.NONE;
            tlsPhase = TlsPhase.HANDSHAKING;
            connections.tlsPhase(ctx.channel(), TlsPhase.HANDSHAKING);
            tlsHandler = tls.insert(ctx.pipeline());
            ctx.pipeline().remove("decoder");
            ctx.pipeline().addBefore(ctx.name(), "decoder", HandshakeDecoder.afterStartTls(NbdServer.MAX_OPTION_DATA));
        }
    }

    /** NBD_REP_ERR_TLS_REQD for an option the connection's TLS mode refuses in the clear, with a log line. */
    private void tlsRequired(ChannelHandlerContext ctx, int option, String reason) {
        if (option == Nbd.NBD_OPT_EXPORT_NAME) {
            fail(ctx, HandshakeFailure.TLS_REQUIRED, "NBD_OPT_EXPORT_NAME without TLS: " + reason);
            return;
        }
        LOG.info("TLS required {} {} {}", connection, keyValue("option", Nbd.optionName(option)),
                keyValue("reason", reason));
        error(ctx, option, Nbd.NBD_REP_ERR_TLS_REQD, reason);
    }

    private boolean allowed(Export export) {
        return tcpClient == null || export.allows(tcpClient);
    }

    /** TLS is up, or the export serves plaintext clients. */
    private boolean tlsSatisfied(Export export) {
        return tlsPhase == TlsPhase.ENCRYPTED || !tls.tlsOnly(export);
    }

    /** The export lists no identities, or lists the client's. */
    private boolean identityAllowed(Export export) {
        List<String> identities = export.config().identities();
        return identities.isEmpty() || identity.matches(identities);
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

    /**
     * An option error that an operator may have to act on (the client cannot fix it
     * by itself): answered like any error, and logged the first time this connection
     * meets it for this export, so a client that retries in a loop cannot flood the log.
     */
    private void refuse(ChannelHandlerContext ctx, int option, int type, String export, String message) {
        if (refusalsLogged == null) {
            refusalsLogged = new HashSet<>();
        }
        if (refusalsLogged.add(Nbd.replyTypeName(type) + ' ' + export)) {
            LOG.warn("option refused {} {} {} {} {}", connection, keyValue("option", Nbd.optionName(option)),
                    keyValue("requested_export", export), keyValue("reply", Nbd.replyTypeName(type)),
                    keyValue("reason", message));
        }
        error(ctx, option, type, message);
    }

    private void fail(ChannelHandlerContext ctx, HandshakeFailure failure, String reason) {
        if (failed) {
            return;
        }
        failed = true;
        LOG.warn("{} {} {} {}", value("event", "handshake failure"), connection, keyValue("failure", failure.label()),
                keyValue("reason", reason));
        connections.handshakeFailed(failure);
        cancelTimeout();
        // Under the io_uring transport (Netty 4.2.18) two ways of closing here left the socket open
        // although the channel reported itself closed, so the client never saw the end: through an
        // SslHandler whose handshake had failed, and from inside a read that had just changed the
        // pipeline (STARTTLS). So the TLS handler, which has nothing left to send, goes first, and the
        // close runs as a task of its own.
        if (tlsHandler != null && ctx.pipeline().context(tlsHandler) != null) {
            ctx.pipeline().remove(tlsHandler);
        }
        ctx.executor().execute(ctx::close);
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failed) {
            return; // SslHandler reports a failed handshake twice: as an event, then as this exception
        }
        if (cause instanceof OversizedLengthException) {
            fail(ctx, HandshakeFailure.OVERSIZED_OPTION, cause.getMessage());
        } else if (cause instanceof DecoderException) {
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
