package org.bufcached.daemon.net;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.export.BlockStore;
import org.bufcached.daemon.export.Descriptors;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.io.DataBuffers;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.server.PayloadMemory;
import org.bufcached.protocol.server.ReadGate;
import org.bufcached.protocol.server.ReplyWriter;
import org.bufcached.protocol.server.RequestDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection: validates each request, hands it to
 * the export's store and writes the reply when the store reports back. Requests
 * are pipelined and replies leave in completion order. Runs on the connection's
 * event loop and never blocks it.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(TransmissionHandler.class);
    /** Requests in flight on one connection before reading pauses. */
    private static final int MAX_IN_FLIGHT = 256;

    /** Makes the handler for a session once the handshake is done. */
    interface Factory {
        TransmissionHandler create(Session session);
    }

    private final Session session;
    private final Connections connections;
    private final RequestObserver observer;
    private final BlockStore store;
    private final ExportConnections exportConnections;
    private final ByteBufAllocator alloc;
    private final PayloadMemory payloadMemory;
    /** Writes the reply chunks of the negotiated headers; null with simple replies. */
    private final ReplyWriter chunks;
    private ChannelHandlerContext ctx;
    private ReadGate readGate;
    private int inFlight;
    /** Whether this handler holds the read gate closed because of {@link #MAX_IN_FLIGHT}. */
    private boolean heldForInFlight;
    private boolean disconnecting;
    /** Whether the connection sent a WRITE yet ({@link BlockStore#writerConnected}). */
    private boolean wrote;
    /** The requests in flight, newest first, linked through {@link Exchange#next}; for the stuck-request report. */
    private Exchange head;
    private ScheduledFuture<?> stuckCheck;

    TransmissionHandler(Session session, Connections connections, RequestObserver observer,
                        PayloadMemory payloadMemory) {
        this.session = session;
        this.connections = connections;
        this.observer = observer;
        this.store = session.export().store();
        this.exportConnections = session.exportConnections();
        this.alloc = DataBuffers.ALLOC;
        this.payloadMemory = payloadMemory;
        this.chunks = session.structuredReplies() ? ReplyWriter.of(session.mode()) : null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.readGate = ReadGate.of(ctx.channel());
        connections.transmitting(this, true);
        stuckCheck = ctx.executor().scheduleAtFixedRate(this::reportStuck, STUCK_CHECK_MILLIS, STUCK_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        connections.transmitting(this, false);
        if (stuckCheck != null) {
            stuckCheck.cancel(false);
        }
        for (Exchange x = head; x != null; x = x.next) {
            if (x.reportedStuck) {
                x.reportedStuck = false;
                connections.stuckEnded();
            }
        }
    }

    /** How often each connection looks for requests in flight for longer than {@code limits.stuck-request}. */
    private static final long STUCK_CHECK_MILLIS = 1000;

    /**
     * The progress watchdog: a request in flight longer than the bound is logged
     * once, with what it waits for, and counted, so that a stuck request shows
     * before a user notices.
     */
    private void reportStuck() {
        long bound = connections.stuckRequestNanos();
        if (bound <= 0) {
            return;
        }
        long now = System.nanoTime();
        for (Exchange x = head; x != null; x = x.next) {
            if (!x.reportedStuck && now - x.startNanos > bound) {
                x.reportedStuck = true;
                connections.stuckStarted();
                LOG.warn("request stuck: {}", describe(x, now));
            }
        }
    }

    private String describe(Exchange x, long now) {
        String waiting = x.waitingFor;
        return session.connection() + " command="
                + Nbd.commandName(x.type) + " offset=" + x.offset + " length=" + x.length + " in flight for "
                + TimeUnit.NANOSECONDS.toMillis(now - x.startNanos) + " ms, waiting for "
                + (waiting != null ? waiting : "its first step");
    }

    /** Adds a line per request in flight to {@code lines}, on the loop. */
    io.netty.util.concurrent.Future<?> describeInFlight(java.util.List<String> lines) {
        return ctx.executor().submit(() -> {
            long now = System.nanoTime();
            for (Exchange x = head; x != null; x = x.next) {
                lines.add(describe(x, now));
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        NbdRequest r = (NbdRequest) msg;
        try {
            if (r.type() == Nbd.NBD_CMD_DISC) {
                disconnect();
                return;
            }
            if (disconnecting) {
                // The client promised to send nothing after NBD_CMD_DISC.
                payloadMemory.release(RequestDecoder.reservation(r));
                return;
            }
            Exchange x = Exchange.of(this, ctx.executor(), r);
            requestStarted(x);
            RequestValidator.Rejection rejection = connections.shuttingDown() ? RequestValidator.SHUTDOWN
                    : exportConnections.draining() ? RequestValidator.EXPORT_REMOVED
                    : RequestValidator.check(r, session);
            if (rejection != null) {
                x.fail(rejection.error(), rejection.message());
            } else {
                try {
                    dispatch(r, x);
                } catch (RuntimeException | Error e) {
                    // A bug in the store: the request still gets its answer, the connection goes on.
                    x.failed(e);
                }
            }
        } finally {
            r.recycle();
        }
    }

    private void dispatch(NbdRequest r, Exchange x) {
        long offset = r.offset();
        long length = r.length();
        boolean fua = r.hasFlag(Nbd.NBD_CMD_FLAG_FUA);
        switch (r.type()) {
            case Nbd.NBD_CMD_READ:
                store.read(offset, (int) length, x);
                break;
            case Nbd.NBD_CMD_WRITE:
                if (!wrote) {
                    wrote = true;
                    store.writerConnected();
                }
                store.write(offset, r.takePayload(), fua, x);
                break;
            case Nbd.NBD_CMD_FLUSH:
                store.flush(x);
                break;
            case Nbd.NBD_CMD_TRIM:
                store.trim(offset, length, fua, x);
                break;
            case Nbd.NBD_CMD_CACHE:
                store.cache(offset, length, x);
                break;
            case Nbd.NBD_CMD_WRITE_ZEROES:
                store.writeZeroes(offset, length, r.hasFlag(Nbd.NBD_CMD_FLAG_NO_HOLE),
                        r.hasFlag(Nbd.NBD_CMD_FLAG_FAST_ZERO), fua, x);
                break;
            case Nbd.NBD_CMD_BLOCK_STATUS:
                if (session.contexts().allocation()) {
                    store.blockStatus(offset, length, r.hasFlag(Nbd.NBD_CMD_FLAG_REQ_ONE) ? 1 : MAX_EXTENTS,
                            session.extendedHeaders(), x);
                } else {
                    x.done(null); // the dirty bitmaps' chunks are made with the reply, from memory
                }
                break;
            default:
                throw new IllegalStateException("validated request of unknown type " + r.type());
        }
    }

    /** The spec suggests at most 2^20 extents per chunk; fewer keeps replies small. */
    private static final int MAX_EXTENTS = 1 << 16;

    /** On the event loop, when the store has answered: write the reply. */
    void reply(Exchange x) {
        try {
            if (x.error == null && (x.type == Nbd.NBD_CMD_WRITE || x.type == Nbd.NBD_CMD_TRIM
                    || x.type == Nbd.NBD_CMD_WRITE_ZEROES)) {
                store.changeAcknowledged(x.offset, x.length);
            }
            writeReply(x);
        } catch (RuntimeException | Error e) {
            // The reply could not be written whole: the stream is out of step, only a close is safe.
            LOG.error("cannot reply, closing the connection {}", session.connection(), e);
            ctx.close();
        } finally {
            payloadMemory.release(x.reservedPayload);
            requestFinished(x);
            x.recycle();
        }
    }

    private void writeReply(Exchange x) {
        if (x.error != null) {
            writeError(x);
        } else if (x.type == Nbd.NBD_CMD_READ) {
            writeRead(x);
        } else if (x.type == Nbd.NBD_CMD_BLOCK_STATUS) {
            writeBlockStatus(x);
        } else if (session.extendedHeaders()) {
            // Extended headers have no simple reply, not even for success without data.
            ctx.write(chunks.none(alloc, x.cookie, x.offset), ctx.voidPromise());
        } else {
            ctx.write(ReplyWriter.simpleReply(alloc, x.cookie, 0), ctx.voidPromise());
        }
        ctx.flush();
        observer.completed(session.export().name(), x.type, x.length, x.error, System.nanoTime() - x.startNanos);
    }

    /**
     * One chunk per selected context: the dirty bitmaps' from their bits now,
     * then base:allocation's from the store; the last carries DONE. A selected
     * bitmap removed since makes the request fail: its context no longer exists.
     */
    private void writeBlockStatus(Exchange x) {
        MetaContexts.Selection contexts = session.contexts();
        var removed = contexts.removed();
        if (removed != null) {
            x.error = NbdError.EINVAL;
            x.message = "dirty bitmap '" + removed.name() + "' was removed";
            writeError(x);
            return;
        }
        int maxExtents = x.hasFlag(Nbd.NBD_CMD_FLAG_REQ_ONE) ? 1 : MAX_EXTENTS;
        var bitmaps = contexts.bitmaps();
        for (int i = 0; i < bitmaps.length; i++) {
            ByteBuf descriptors = Descriptors.status(alloc, bitmaps[i].extents(x.offset, x.length, maxExtents),
                    session.extendedHeaders());
            boolean last = !contexts.allocation() && i == bitmaps.length - 1;
            ctx.write(chunks.blockStatusHeader(alloc, x.cookie, x.offset, last, MetaContexts.Selection.bitmapId(i),
                    descriptors.readableBytes()), ctx.voidPromise());
            ctx.write(descriptors, ctx.voidPromise());
        }
        if (contexts.allocation()) {
            ByteBuf descriptors = x.data;
            ctx.write(chunks.blockStatusHeader(alloc, x.cookie, x.offset, true, MetaContexts.ALLOCATION_ID,
                    descriptors.readableBytes()), ctx.voidPromise());
            ctx.write(descriptors, ctx.voidPromise());
        }
    }

    private void writeRead(Exchange x) {
        ByteBuf data = x.data;
        if (chunks == null) {
            ctx.write(ReplyWriter.simpleReply(alloc, x.cookie, 0), ctx.voidPromise());
            ctx.write(data, ctx.voidPromise());
        } else if (data.isReadable()) {
            // The data is in hand, so no error can follow: this chunk may carry DONE.
            ctx.write(chunks.offsetDataHeader(alloc, x.cookie, x.offset, true, x.offset, data.readableBytes()),
                    ctx.voidPromise());
            ctx.write(data, ctx.voidPromise());
        } else {
            data.release();
            ctx.write(chunks.none(alloc, x.cookie, x.offset), ctx.voidPromise());
        }
    }

    private void writeError(Exchange x) {
        if (x.data != null) {
            x.data.release();
        }
        NbdError error = x.error;
        if (chunks != null) {
            ctx.write(chunks.error(alloc, x.cookie, x.offset, error.code(), x.message), ctx.voidPromise());
        } else {
            ctx.write(ReplyWriter.simpleReply(alloc, x.cookie, error.code()), ctx.voidPromise());
        }
        if (error == NbdError.EIO || error == NbdError.ENOSPC) {
            LOG.warn("{} {} {} {}", value("event", "request failed"), session.connection(),
                    keyValue("error", error.wireName()), keyValue("reason", x.message));
        }
    }

    private void requestStarted(Exchange x) {
        x.next = head;
        if (head != null) {
            head.prev = x;
        }
        head = x;
        inFlight++;
        connections.requestStarted();
        exportConnections.requestStarted();
        if (inFlight == MAX_IN_FLIGHT && !heldForInFlight) {
            heldForInFlight = true;
            readGate.close();
        }
    }

    private void requestFinished(Exchange x) {
        if (x.prev != null) {
            x.prev.next = x.next;
        } else {
            head = x.next;
        }
        if (x.next != null) {
            x.next.prev = x.prev;
        }
        if (x.reportedStuck) {
            connections.stuckEnded();
            LOG.info("stuck request answered: {}{}", describe(x, System.nanoTime()),
                    x.error != null ? " (" + x.error.wireName() + ")" : "");
        }
        inFlight--;
        connections.requestFinished();
        exportConnections.requestFinished();
        if (inFlight == MAX_IN_FLIGHT / 2 && heldForInFlight) {
            heldForInFlight = false;
            readGate.open();
        }
        if (disconnecting && inFlight == 0) {
            closeAfterReplies(ctx);
        }
    }

    /** NBD_CMD_DISC: answer everything outstanding, then close. */
    private void disconnect() {
        disconnecting = true;
        readGate.close(); // for good: nothing may follow NBD_CMD_DISC
        if (inFlight == 0) {
            closeAfterReplies(ctx);
        }
    }

    /** Closes once the replies already written have reached the socket, not before. */
    static void closeAfterReplies(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    Export export() {
        return session.export();
    }

    /** {@code limits.idle-timeout}: a connection with nothing in flight and no traffic for that long is closed. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent && inFlight == 0) {
            LOG.info("closing idle connection {}", session.connection());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            Throwable reason = cause.getCause() != null ? cause.getCause() : cause;
            LOG.warn("protocol error {} {}", session.connection(), keyValue("reason", reason.getMessage()));
        } else if (cause instanceof IOException && String.valueOf(cause.getMessage()).contains("Bad address")) {
            // EFAULT: a reply's data was not readable: its pages lie past the end of a backing
            // file cut short under the export, between the cut and the daemon noticing it.
            LOG.warn("connection closed {}: a reply's data could not be read ({}); was its backing file cut short?",
                    session.connection(), cause.getMessage());
        } else if (cause instanceof IOException) {
            LOG.debug("I/O error {} {}", session.connection(), keyValue("reason", cause.getMessage()));
        } else {
            LOG.error("unexpected error {}", session.connection(), cause);
        }
        ctx.close();
    }
}
