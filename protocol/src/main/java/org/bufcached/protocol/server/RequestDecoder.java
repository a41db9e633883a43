package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.OversizedLengthException;

/**
 * Server side of the transmission phase, inbound: request headers and WRITE
 * payloads, without a cumulation buffer.
 *
 * <ul>
 * <li>A header is parsed where it lies in the received buffer; only a header
 *     split between two reads is gathered in a 28-byte buffer of its own.</li>
 * <li>A WRITE payload is copied as it arrives into a pooled direct buffer of
 *     exactly its length, which the request carries on: one copy in user space,
 *     and no received buffer stays pinned by a slice. The payload's length is first
 *     reserved from the {@link PayloadMemory} shared by all connections; while it
 *     cannot be, the decoder stops reading the socket (its {@link ReadGate}) and
 *     keeps what had already arrived, and resumes once the memory is granted. The
 *     reservation is returned by whoever answers the request (see
 *     {@link #reservation}).</li>
 * <li>While other connections wait for payload memory, a payload that makes no
 *     progress for {@link PayloadMemory#stallTimeoutNanos()} ends the connection
 *     (a {@link NbdProtocolException}), so that a client cannot hold memory by
 *     announcing payloads it does not send.</li>
 * <li>A payload over {@code maxPayload} is skipped as it arrives (never buffered)
 *     and the request emitted with {@link NbdRequest#payloadDiscarded()}, so the
 *     connection stays usable and the handler fails just that request. One
 *     announced beyond {@link LengthBounds#hardLimit} is an
 *     {@link OversizedLengthException}: skipping it would be a denial of
 *     service.</li>
 * </ul>
 *
 * <p>Runs on the channel's event loop, except {@link Waiter#reserved()}, which
 * only schedules the continuation there.
 */
public final class RequestDecoder extends ChannelInboundHandlerAdapter {
    private enum State { HEADER, PAYLOAD, SKIP, AWAIT_MEMORY, FAILED }

    private final int maxPayload;
    private final long hardLimit;
    private final PayloadMemory memory;
    private final Waiter waiter = new Waiter();
    private final Runnable stallCheck = this::checkStall;
    /** A header split between reads, gathered here; empty otherwise. */
    private final ByteBuf partialHeader = Unpooled.buffer(Nbd.REQUEST_HEADER_SIZE, Nbd.REQUEST_HEADER_SIZE);
    /** Received buffers kept while waiting for memory, oldest first. */
    private final ArrayDeque<ByteBuf> backlog = new ArrayDeque<>(4);

    private ChannelHandlerContext ctx;
    private ReadGate gate;
    private State state = State.HEADER;
    private boolean removed;
    // The request being received: header fields, and the payload filled so far (PAYLOAD) or the bytes left to skip.
    private int flags;
    private int type;
    private long cookie;
    private long offset;
    private long length;
    private ByteBuf payload;
    /** When the payload being received last got bytes, by the event loop's ticker. */
    private long payloadProgressNanos;
    /** Runs while this connection receives payloads, made with the first one. */
    private ScheduledFuture<?> stallChecks;
    private long toSkip;

    public RequestDecoder(int maxPayload, PayloadMemory memory) {
        this.maxPayload = maxPayload;
        this.hardLimit = LengthBounds.hardLimit(maxPayload);
        this.memory = memory;
    }

    /**
     * The payload memory a request holds from its decoding until it has been
     * answered, for a decoder that accepts {@code maxPayload}: a WRITE's payload
     * length, unless the payload was skipped as too large. Whoever answers the
     * request releases this much.
     */
    public static long reservation(int type, long length, int maxPayload) {
        return type == Nbd.NBD_CMD_WRITE && length <= maxPayload ? length : 0;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.gate = ReadGate.of(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        if (state == State.AWAIT_MEMORY) {
            // Read before the gate closed: kept, in order, for when the memory comes.
            backlog.addLast(in);
            return;
        }
        decode(in);
    }

    /** Decodes what {@code in} holds; releases it, or keeps the rest in the backlog if memory ran out. */
    private void decode(ByteBuf in) {
        try {
            while (in.isReadable() && state != State.AWAIT_MEMORY) {
                switch (state) {
                    case HEADER:
                        header(in);
                        break;
                    case PAYLOAD:
                        payload(in);
                        break;
                    case SKIP:
                        skip(in);
                        break;
                    case FAILED:
                        in.skipBytes(in.readableBytes());
                        break;
                    default:
                        throw new IllegalStateException(state.name());
                }
            }
        } catch (NbdProtocolException e) {
            state = State.FAILED;
            ctx.fireExceptionCaught(e);
        } finally {
            if (state == State.AWAIT_MEMORY && in.isReadable()) {
                backlog.addFirst(in);
            } else {
                in.release();
            }
        }
    }

    private void header(ByteBuf in) {
        ByteBuf h = in;
        if (partialHeader.isReadable() || in.readableBytes() < Nbd.REQUEST_HEADER_SIZE) {
            partialHeader.writeBytes(in, Math.min(partialHeader.writableBytes(), in.readableBytes()));
            if (partialHeader.isWritable()) {
                return;
            }
            h = partialHeader;
        }
        int start = h.readerIndex();
        int magic = h.getInt(start);
        if (magic != Nbd.NBD_REQUEST_MAGIC) {
            throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
        }
        flags = h.getUnsignedShort(start + 4);
        type = h.getUnsignedShort(start + 6);
        cookie = h.getLong(start + 8);
        offset = h.getLong(start + 16);
        length = h.getUnsignedInt(start + 24);
        h.skipBytes(Nbd.REQUEST_HEADER_SIZE);
        partialHeader.clear();
        if (type != Nbd.NBD_CMD_WRITE) {
            emit(null);
        } else if (length > hardLimit) {
            throw new OversizedLengthException("WRITE payload", length, hardLimit);
        } else if (length > maxPayload) {
            toSkip = length;
            state = State.SKIP;
        } else if (length == 0) {
            emit(Unpooled.EMPTY_BUFFER);
        } else if (memory.reserveOrWait(length, waiter)) {
            startPayload();
        } else {
            state = State.AWAIT_MEMORY;
            gate.close();
        }
    }

    private void startPayload() {
        payload = ctx.alloc().directBuffer((int) length, (int) length);
        state = State.PAYLOAD;
        payloadProgressNanos = ctx.executor().ticker().nanoTime();
        if (stallChecks == null) {
            long period = Math.max(MIN_STALL_CHECK_NANOS, memory.stallTimeoutNanos() / 4);
            stallChecks = ctx.executor().scheduleAtFixedRate(stallCheck, period, period, TimeUnit.NANOSECONDS);
        }
    }

    private void payload(ByteBuf in) {
        payloadProgressNanos = ctx.executor().ticker().nanoTime();
        payload.writeBytes(in, Math.min(payload.writableBytes(), in.readableBytes()));
        if (!payload.isWritable()) {
            ByteBuf complete = payload;
            payload = null;
            emit(complete);
        }
    }

    private void skip(ByteBuf in) {
        int n = (int) Math.min(toSkip, in.readableBytes());
        in.skipBytes(n);
        toSkip -= n;
        if (toSkip == 0) {
            state = State.HEADER;
            ctx.fireChannelRead(NbdRequest.newInstance(flags, type, cookie, offset, length, null)
                    .markPayloadDiscarded());
        }
    }

    private void emit(ByteBuf requestPayload) {
        state = State.HEADER;
        ctx.fireChannelRead(NbdRequest.newInstance(flags, type, cookie, offset, length, requestPayload));
    }

    /** Checks are at least this far apart: a timeout is a matter of seconds, not of a busy timer. */
    private static final long MIN_STALL_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /**
     * On the event loop, now and then: a payload that got no byte for the stall
     * timeout while others wait for memory ends the connection, which returns the
     * memory. Nobody waiting, a slow client harms no one and may take its time.
     */
    private void checkStall() {
        long stalled = ctx.executor().ticker().nanoTime() - payloadProgressNanos;
        if (state == State.PAYLOAD && memory.waiting() > 0 && stalled >= memory.stallTimeoutNanos()) {
            state = State.FAILED;
            ctx.fireExceptionCaught(new NbdProtocolException("WRITE payload of " + length + " bytes stalled: "
                    + payload.readableBytes() + " bytes received, none for " + TimeUnit.NANOSECONDS.toMillis(stalled)
                    + " ms while other connections wait for payload memory (limits.payload-timeout)"));
        }
    }

    /** On the event loop, once the memory for the pending payload is reserved: decode what was kept. */
    private void resume() {
        if (removed) {
            memory.release(length);
            return;
        }
        startPayload();
        ByteBuf kept;
        while (state != State.AWAIT_MEMORY && (kept = backlog.pollFirst()) != null) {
            decode(kept);
        }
        if (state != State.AWAIT_MEMORY) {
            gate.open();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (state == State.PAYLOAD || state == State.SKIP || partialHeader.isReadable()) {
            ctx.fireExceptionCaught(new NbdProtocolException("connection closed in the middle of a request"));
        }
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        removed = true;
        if (stallChecks != null) {
            stallChecks.cancel(false);
        }
        if (state == State.AWAIT_MEMORY && memory.cancel(waiter)) {
            state = State.FAILED;
        }
        if (payload != null) {
            payload.release();
            payload = null;
            memory.release(length);
        }
        ByteBuf kept;
        while ((kept = backlog.pollFirst()) != null) {
            kept.release();
        }
        partialHeader.release();
    }

    /** This decoder's place in the {@link PayloadMemory} queue. */
    private final class Waiter implements PayloadMemory.Waiter, Runnable {
        @Override
        public long bytesWanted() {
            return length;
        }

        @Override
        public void reserved() {
            ctx.executor().execute(this);
        }

        @Override
        public void run() {
            resume();
        }
    }
}
