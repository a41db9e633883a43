package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.ServerGreeting;

/**
 * Client side of the handshake, inbound: the greeting, then option replies. The
 * reply to NBD_OPT_EXPORT_NAME has no header that tells it apart, so the handler
 * announces it with {@link #expectExportNameReply(boolean)} before sending that
 * option. Option replies larger than {@code maxReplyData} are refused with a hard
 * disconnect rather than buffered: no legitimate reply comes near the limit.
 */
public final class HandshakeClientDecoder extends ByteToMessageDecoder {
    private enum State { GREETING, OPTION_REPLY, EXPORT_NAME_REPLY }

    private final int maxReplyData;
    private State state = State.GREETING;
    private boolean zeroes;

    public HandshakeClientDecoder(int maxReplyData) {
        this.maxReplyData = maxReplyData;
    }

    /** A decoder for the option replies that follow NBD_OPT_STARTTLS, inside TLS, with the same limit. */
    public HandshakeClientDecoder afterStartTls() {
        HandshakeClientDecoder next = new HandshakeClientDecoder(maxReplyData);
        next.state = State.OPTION_REPLY;
        return next;
    }

    /** The next message is the reply to NBD_OPT_EXPORT_NAME, padded with zeroes unless NO_ZEROES was agreed. */
    public void expectExportNameReply(boolean zeroes) {
        this.zeroes = zeroes;
        state = State.EXPORT_NAME_REPLY;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case GREETING:
                if (in.readableBytes() < ServerGreeting.WIRE_SIZE) {
                    return;
                }
                long magic = in.readLong();
                if (magic != Nbd.NBDMAGIC) {
                    throw new NbdProtocolException("not an NBD server: bad magic 0x" + Long.toHexString(magic));
                }
                long opts = in.readLong();
                if (opts != Nbd.IHAVEOPT) {
                    throw new NbdProtocolException("not a newstyle NBD server: magic 0x" + Long.toHexString(opts)
                            + " where IHAVEOPT was expected");
                }
                out.add(new ServerGreeting(in.readUnsignedShort()));
                state = State.OPTION_REPLY;
                return;
            case OPTION_REPLY:
                decodeOptionReply(in, out);
                return;
            case EXPORT_NAME_REPLY:
                int size = ExportNameReply.WIRE_SIZE_NO_ZEROES + (zeroes ? Nbd.EXPORT_NAME_REPLY_ZEROES : 0);
                if (in.readableBytes() < size) {
                    return;
                }
                out.add(new ExportNameReply(in.readLong(), in.readUnsignedShort(), zeroes));
                in.skipBytes(size - ExportNameReply.WIRE_SIZE_NO_ZEROES);
                state = State.OPTION_REPLY;
                return;
            default:
                throw new IllegalStateException(state.name());
        }
    }

    private void decodeOptionReply(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < Nbd.OPTION_REPLY_HEADER_SIZE) {
            return;
        }
        int start = in.readerIndex();
        long magic = in.getLong(start);
        if (magic != Nbd.NBD_REP_MAGIC) {
            throw new NbdProtocolException("bad option reply magic 0x" + Long.toHexString(magic));
        }
        long length = in.getUnsignedInt(start + 16);
        if (length > maxReplyData) {
            throw new NbdProtocolException("option reply of " + length + " bytes exceeds the limit of " + maxReplyData);
        }
        if (in.readableBytes() < Nbd.OPTION_REPLY_HEADER_SIZE + length) {
            return;
        }
        int option = in.getInt(start + 8);
        int type = in.getInt(start + 12);
        in.skipBytes(Nbd.OPTION_REPLY_HEADER_SIZE);
        out.add(new OptionReply(option, type, in.readRetainedSlice((int) length)));
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (in.isReadable()) {
            throw new NbdProtocolException("connection closed in the middle of a handshake message");
        }
    }
}
