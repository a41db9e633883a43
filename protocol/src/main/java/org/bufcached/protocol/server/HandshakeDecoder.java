package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.OversizedLengthException;
import org.bufcached.protocol.OptionRequest;

/**
 * Server side of the fixed newstyle handshake, inbound: the client flags, then a
 * sequence of options. Option data above {@code maxOptionData} is skipped as it
 * arrives, never buffered, and surfaces as an {@link OptionRequest#oversized()}
 * option so the handler can answer NBD_REP_ERR_TOO_BIG and parse the next one;
 * data announced beyond {@link LengthBounds#hardLimit} is an
 * {@link OversizedLengthException} instead, and nothing more is decoded.
 *
 * <p>The handler replaces this decoder with a {@link RequestDecoder} when the
 * transmission phase begins; bytes already received move on to the new decoder.
 */
public final class HandshakeDecoder extends ByteToMessageDecoder {
    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, SKIP_DATA, FAILED }

    private final int maxOptionData;
    private final long hardLimit;
    private State state;
    private int option;
    private long remaining;
    private long declared;

    public HandshakeDecoder(int maxOptionData) {
        this(maxOptionData, State.CLIENT_FLAGS);
    }

    private HandshakeDecoder(int maxOptionData, State state) {
        this.maxOptionData = maxOptionData;
        this.hardLimit = LengthBounds.hardLimit(maxOptionData);
        this.state = state;
    }

    /**
     * A decoder for the options that follow NBD_OPT_STARTTLS, inside TLS: the
     * client flags came before, in the clear.
     */
    public static HandshakeDecoder afterStartTls(int maxOptionData) {
        return new HandshakeDecoder(maxOptionData, State.OPTION_HEADER);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case CLIENT_FLAGS:
                if (in.readableBytes() < ClientFlags.WIRE_SIZE) {
                    return;
                }
                out.add(new ClientFlags(in.readInt()));
                state = State.OPTION_HEADER;
                return;
            case OPTION_HEADER:
                if (in.readableBytes() < Nbd.OPTION_HEADER_SIZE) {
                    return;
                }
                long magic = in.readLong();
                if (magic != Nbd.IHAVEOPT) {
                    state = State.FAILED;
                    throw new NbdProtocolException("bad option magic 0x" + Long.toHexString(magic));
                }
                option = in.readInt();
                declared = in.readUnsignedInt();
                if (declared > hardLimit) {
                    state = State.FAILED;
                    throw new OversizedLengthException(Nbd.optionName(option) + " data", declared, hardLimit);
                }
                remaining = declared;
                if (declared == 0) {
                    // Nothing to wait for: emit now, or the option would sit until more bytes arrive.
                    out.add(new OptionRequest(option, Unpooled.EMPTY_BUFFER));
                    return;
                }
                state = declared > maxOptionData ? State.SKIP_DATA : State.OPTION_DATA;
                return;
            case OPTION_DATA:
                if (in.readableBytes() < remaining) {
                    return;
                }
                out.add(new OptionRequest(option, in.readRetainedSlice((int) remaining)));
                state = State.OPTION_HEADER;
                return;
            case SKIP_DATA:
                int skip = (int) Math.min(remaining, in.readableBytes());
                in.skipBytes(skip);
                remaining -= skip;
                if (remaining == 0) {
                    out.add(OptionRequest.oversized(option, declared, Unpooled.EMPTY_BUFFER));
                    state = State.OPTION_HEADER;
                }
                return;
            case FAILED:
                // The connection is being closed: whatever else arrives means nothing.
                in.skipBytes(in.readableBytes());
                return;
            default:
                throw new IllegalStateException(state.name());
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (in.isReadable() || state == State.OPTION_DATA || state == State.SKIP_DATA) {
            throw new NbdProtocolException("connection closed in the middle of a handshake message");
        }
    }
}
