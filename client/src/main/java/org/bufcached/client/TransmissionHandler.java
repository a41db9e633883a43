package org.bufcached.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCounted;
import io.netty.util.collection.LongObjectHashMap;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.client.ReplyDecoder;
import org.bufcached.protocol.client.SimpleReply;
import org.bufcached.protocol.client.StructuredReplyChunk;

/**
 * The transmission phase: gives each command a cookie, keeps it until its reply is
 * complete (in any order the server chooses), and fails everything in flight when
 * the connection breaks. A protocol violation closes the connection (a hard
 * disconnect, as the spec demands); an NBD_ESHUTDOWN error starts a soft one.
 * All methods run on the event loop.
 */
final class TransmissionHandler extends ChannelDuplexHandler implements ReplyDecoder.PendingReads {
    private final LongObjectHashMap<Command> inFlight = new LongObjectHashMap<>();
    private final boolean structured;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private ChannelHandlerContext ctx;
    private long nextCookie = 1;
    private Throwable closedCause;
    private boolean disconnecting;

    TransmissionHandler(boolean structured) {
        this.structured = structured;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Completes when the connection is gone. */
    CompletableFuture<Void> closedFuture() {
        return closed;
    }

    int inFlight() {
        return inFlight.size();
    }

    /** Sends {@code c}; {@code flush} false lets the caller batch several requests into one write. */
    void submit(Command c, boolean flush) {
        if (closedCause != null || disconnecting) {
            c.fail(closedCause != null ? new NbdException("connection closed: " + Errors.message(closedCause), closedCause)
                    : new NbdException("connection is disconnecting"));
            return;
        }
        long cookie = nextCookie++;
        inFlight.put(cookie, c);
        // Void promises: a failed write fires exceptionCaught, which fails everything in flight.
        ReferenceCounted payload = c.takePayload();
        if (payload instanceof FileRegion) {
            // The header alone (the encoder marks a WRITE as carrying its payload), then the file's bytes.
            ctx.write(NbdRequest.newInstance(c.flags, c.type, cookie, c.offset, c.length, null), ctx.voidPromise());
            ctx.write(payload, ctx.voidPromise());
        } else {
            ctx.write(NbdRequest.newInstance(c.flags, c.type, cookie, c.offset, c.length, (ByteBuf) payload),
                    ctx.voidPromise());
        }
        if (flush) {
            ctx.flush();
        }
    }

    /** Soft disconnect: waits for the replies in flight, then sends NBD_CMD_DISC and closes. */
    CompletableFuture<Void> disconnect() {
        disconnecting = true;
        if (inFlight.isEmpty() && closedCause == null) {
            sendDisc();
        }
        return closed;
    }

    private void sendDisc() {
        ChannelFuture f = ctx.writeAndFlush(NbdRequest.newInstance(0, Nbd.NBD_CMD_DISC, nextCookie++, 0, 0, null));
        f.addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public long simpleReplyPayload(long cookie) {
        Command c = inFlight.get(cookie);
        return c == null ? UNKNOWN : c.simpleReplyPayload();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof StructuredReplyChunk) {
                StructuredReplyChunk chunk = (StructuredReplyChunk) msg;
                Command c = command(chunk.cookie());
                if (c.onChunk(chunk, ctx.alloc())) {
                    completed(chunk.cookie(), c);
                }
            } else if (msg instanceof SimpleReply) {
                SimpleReply reply = (SimpleReply) msg;
                Command c = command(reply.cookie());
                c.onSimpleReply(reply, structured);
                completed(reply.cookie(), c);
            } else {
                throw new IllegalStateException("unexpected message " + msg);
            }
        } finally {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }

    private Command command(long cookie) {
        Command c = inFlight.get(cookie);
        if (c == null) {
            throw new NbdProtocolException("reply for unknown cookie 0x" + Long.toHexString(cookie));
        }
        return c;
    }

    private void completed(long cookie, Command c) {
        inFlight.remove(cookie);
        if (c.shutdownError()) {
            // The spec: a client that receives NBD_ESHUTDOWN MUST initiate a soft disconnect.
            disconnecting = true;
        }
        if (disconnecting && inFlight.isEmpty() && closedCause == null) {
            sendDisc();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failAll(cause instanceof NbdProtocolException
                ? new NbdException("protocol error, disconnecting: " + cause.getMessage(), cause) : cause);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        failAll(new NbdException(disconnecting ? "connection closed after disconnect"
                : "server closed the connection with " + inFlight.size() + " requests unanswered"));
        closed.complete(null);
        ctx.fireChannelInactive();
    }

    private void failAll(Throwable cause) {
        if (closedCause == null) {
            closedCause = cause;
        }
        if (inFlight.isEmpty()) {
            return;
        }
        ArrayList<Command> failed = new ArrayList<>(inFlight.values());
        inFlight.clear();
        Throwable error = cause instanceof NbdException ? cause : new NbdException(Errors.message(cause), cause);
        for (Command c : failed) {
            c.fail(error);
        }
    }
}
