package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.OversizedLengthException;

/**
 * Server side of the transmission phase, inbound: request headers and their
 * payloads, without a cumulation buffer. Compact 28-byte headers, or the 32-byte
 * extended ones once NBD_OPT_EXTENDED_HEADERS was negotiated; a header of the
 * other kind is a protocol error, since the spec lets a connection use only one.
 *
 * <ul>
 * <li>A header is parsed where it lies in the received buffer; only a header
 *     split between two reads is gathered in a buffer of its own.</li>
 * <li>Which requests carry a payload: a WRITE always (its length is the payload's
 *     in both header styles), and with extended headers any request flagged
 *     NBD_CMD_FLAG_PAYLOAD_LEN. Other lengths are effect lengths, up to 2^32 - 1
 *     in compact headers and 2^64 - 1 in extended ones; they are the handler's to
 *     check against the export.</li>
 * <li>A WRITE payload is copied as it arrives into a pooled direct buffer of
 *     exactly its length, which the request carries on: one copy in user space,
 *     and no received buffer stays pinned by a slice. The payload's length is first
 *     reserved from the {@link PayloadMemory} shared by all connections; while it
 *     cannot be, the decoder stops reading the socket (its {@link ReadGate}) and
 *     keeps what had already arrived, and resumes once the memory is granted. The
 *     reservation is returned by whoever answers the request (see
 *     {@link #reservation}).</li>
 * <li>With a {@link PayloadReceiver} (plaintext connections), the rest of a large
 *     payload is read from the socket straight into that buffer: no copy in user
 *     space at all.</li>
 * <li>While other connections wait for payload memory, a payload that makes no
 *     progress for {@link PayloadMemory#stallTimeoutNanos()} ends the connection
 *     (a {@link NbdProtocolException}), so that a client cannot hold memory by
 *     announcing payloads it does not send.</li>
 * <li>Payloads that are refused are skipped as they arrive (never buffered) and
 *     the request emitted with {@link NbdRequest#payloadDiscarded()}, so the
 *     connection stays usable and the handler fails just that request: a compact
 *     WRITE over {@code maxPayload}, and an extended request other than WRITE
 *     with a payload (no other command here has a payload form).</li>
 * <li>A payload announced beyond what is skipped is an
 *     {@link OversizedLengthException}, which ends the connection: in compact
 *     headers beyond {@link LengthBounds#hardLimit} (skipping more would be a
 *     denial of service); in extended headers beyond {@code maxPayload}, as the
 *     spec says a server SHOULD for NBD_CMD_FLAG_PAYLOAD_LEN.</li>
 * </ul>
 *
 * <p>Runs on the channel's event loop, except {@link Waiter#reserved()}, which
 * only schedules the continuation there.
 */
public final class RequestDecoder extends ChannelInboundHandlerAdapter {
    private enum State { HEADER, PAYLOAD, SKIP, AWAIT_MEMORY, FAILED }

    private final int maxPayload;
    /** Payloads announced beyond this end the connection; between {@code maxPayload} and this they are skipped. */
    private final long payloadLimit;
    private final boolean extended;
    private final int headerSize;
    private final int requestMagic;
    /** NBD_CMD_FLAG_PAYLOAD_LEN with extended headers, else 0: the flag means nothing in compact ones. */
    private final int payloadFlag;
    private final PayloadMemory memory;
    private final Waiter waiter = new Waiter();
    private final Runnable stallCheck = this::checkStall;
    /** A header split between reads, gathered here; empty otherwise. */
    private final ByteBuf partialHeader;
    /** Received buffers kept while waiting for memory, oldest first. */
    private final ArrayDeque<ByteBuf> backlog = new ArrayDeque<>(4);
    /** Reads the socket into payloads; null: payloads are copied from the received buffers. */
    private final PayloadReceiver receiver;

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
    /** The rest of {@link #payload}, handed to the transport for the socket read in flight; null if none. */
    private ByteBuf receiving;
    /** When the payload being received last got bytes, by the event loop's ticker. */
    private long payloadProgressNanos;
    /** Runs while this connection receives payloads, made with the first one. */
    private ScheduledFuture<?> stallChecks;
    private long toSkip;

    /** A decoder of compact headers. */
    public RequestDecoder(int maxPayload, PayloadMemory memory) {
        this(maxPayload, memory, false, null);
    }

    /**
     * A decoder of extended headers ({@code extended}: NBD_OPT_EXTENDED_HEADERS was
     * negotiated) or compact ones, which receives large payloads through
     * {@code receiver} if not null (only where it sees the socket's bytes as they are).
     */
    public RequestDecoder(int maxPayload, PayloadMemory memory, boolean extended, PayloadReceiver receiver) {
        this.receiver = receiver;
        this.maxPayload = maxPayload;
        this.extended = extended;
        this.payloadLimit = extended ? maxPayload : LengthBounds.hardLimit(maxPayload);
        this.headerSize = extended ? Nbd.EXTENDED_REQUEST_HEADER_SIZE : Nbd.REQUEST_HEADER_SIZE;
        this.requestMagic = extended ? Nbd.NBD_EXTENDED_REQUEST_MAGIC : Nbd.NBD_REQUEST_MAGIC;
        this.payloadFlag = extended ? Nbd.NBD_CMD_FLAG_PAYLOAD_LEN : 0;
        this.memory = memory;
        this.partialHeader = Unpooled.buffer(headerSize, headerSize);
    }

    /**
     * The payload memory {@code r} holds from its decoding until it has been
     * answered: the length of the payload it carries (none when it was skipped).
     * Whoever answers the request releases this much; ask before the payload is
     * taken from the request.
     */
    public static long reservation(NbdRequest r) {
        return r.payload() != null ? r.length() : 0;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.gate = ReadGate.of(ctx.channel());
        if (receiver != null) {
            receiver.attach(this);
        }
    }

    /** Less than this left of a payload is copied: a read for the tail alone would cost more than the copy. */
    static final int MIN_RECEIVE_INTO = 16 * 1024;

    /**
     * For the {@link PayloadReceiver}, as the transport is about to read the socket:
     * the unfilled rest of the payload being received, as a buffer of its own (a
     * retained slice that the read fills and the pipeline hands back here), or null
     * for a buffer of the usual kind.
     */
    ByteBuf receiveInto() {
        if (state != State.PAYLOAD || payload.writableBytes() < MIN_RECEIVE_INTO) {
            return null;
        }
        receiving = payload.retainedSlice(payload.writerIndex(), payload.writableBytes()).clear();
        return receiving;
    }

    /** What the socket read into {@link #receiving}: the payload is that much longer. */
    private void receivedInto(ByteBuf in) {
        receiving = null;
        try {
            if (state == State.PAYLOAD) {
                payloadProgressNanos = ctx.executor().ticker().nanoTime();
                payload.writerIndex(payload.writerIndex() + in.readableBytes());
                if (!payload.isWritable()) {
                    ByteBuf complete = payload;
                    payload = null;
                    emit(complete);
                }
            }
        } finally {
            in.release();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        if (in == receiving) {
            receivedInto(in);
            return;
        }
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
        if (partialHeader.isReadable() || in.readableBytes() < headerSize) {
            partialHeader.writeBytes(in, Math.min(partialHeader.writableBytes(), in.readableBytes()));
            if (partialHeader.isWritable()) {
                // A wrong magic is an error at once: a peer sending the other header style (shorter,
                // in the compact case) may wait for a reply that the rest of a header would never bring.
                if (partialHeader.readableBytes() >= 4 && partialHeader.getInt(0) != requestMagic) {
                    throw badMagic(partialHeader.getInt(0));
                }
                return;
            }
            h = partialHeader;
        }
        int start = h.readerIndex();
        int magic = h.getInt(start);
        if (magic != requestMagic) {
            throw badMagic(magic);
        }
        flags = h.getUnsignedShort(start + 4);
        type = h.getUnsignedShort(start + 6);
        cookie = h.getLong(start + 8);
        offset = h.getLong(start + 16);
        length = extended ? h.getLong(start + 24) : h.getUnsignedInt(start + 24);
        h.skipBytes(headerSize);
        partialHeader.clear();
        if (type != Nbd.NBD_CMD_WRITE && (flags & payloadFlag) == 0) {
            emit(null);
        } else if (Long.compareUnsigned(length, payloadLimit) > 0) {
            throw new OversizedLengthException(Nbd.commandName(type).toUpperCase(Locale.ROOT) + " payload",
                    length, payloadLimit);
        } else if (length > maxPayload || type != Nbd.NBD_CMD_WRITE) {
            skipPayload();
        } else if (length == 0) {
            emit(Unpooled.EMPTY_BUFFER);
        } else if (memory.reserveOrWait(length, waiter)) {
            startPayload();
        } else {
            state = State.AWAIT_MEMORY;
            gate.close();
        }
    }

    /** A header whose magic is not the negotiated one: the other style's is named, it is the likelier mistake. */
    private NbdProtocolException badMagic(int magic) {
        if (magic == Nbd.NBD_REQUEST_MAGIC) {
            return new NbdProtocolException("compact request header after extended headers were negotiated");
        }
        if (magic == Nbd.NBD_EXTENDED_REQUEST_MAGIC) {
            return new NbdProtocolException("extended request header without NBD_OPT_EXTENDED_HEADERS");
        }
        return new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
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

    private void skipPayload() {
        toSkip = length;
        state = State.SKIP;
        if (toSkip == 0) {
            skipped();
        }
    }

    private void skip(ByteBuf in) {
        int n = (int) Math.min(toSkip, in.readableBytes());
        in.skipBytes(n);
        toSkip -= n;
        if (toSkip == 0) {
            skipped();
        }
    }

    private void skipped() {
        state = State.HEADER;
        ctx.fireChannelRead(NbdRequest.newInstance(flags, type, cookie, offset, length, null).markPayloadDiscarded());
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
        if (receiver != null) {
            receiver.detach(this);
        }
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
