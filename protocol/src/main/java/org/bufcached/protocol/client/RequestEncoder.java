package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdRequest;

/**
 * Client side of the transmission phase, outbound: a pooled {@link NbdRequest}
 * becomes a header followed by its payload as the caller's own buffer (no copy).
 * A WRITE may also come without a payload when the caller writes the bytes itself
 * right after it, as a file region (sendfile).
 * The request is recycled once encoded; its payload travels on. {@link #COMPACT}
 * writes 28-byte headers; {@link #EXTENDED}, after NBD_OPT_EXTENDED_HEADERS, 32-byte
 * ones with a 64-bit length, and flags every request that carries a payload with
 * NBD_CMD_FLAG_PAYLOAD_LEN, as the spec demands of a WRITE. The inverse of the
 * server's {@link org.bufcached.protocol.server.RequestDecoder}.
 */
@ChannelHandler.Sharable
public final class RequestEncoder extends MessageToMessageEncoder<NbdRequest> {
    public static final RequestEncoder COMPACT = new RequestEncoder(false);
    public static final RequestEncoder EXTENDED = new RequestEncoder(true);

    private final boolean extended;

    private RequestEncoder(boolean extended) {
        this.extended = extended;
    }

    /** The encoder of extended headers ({@code extended}) or compact ones. */
    public static RequestEncoder of(boolean extended) {
        return extended ? EXTENDED : COMPACT;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, NbdRequest r, List<Object> out) {
        ByteBuf buf = ctx.alloc().ioBuffer(extended ? Nbd.EXTENDED_REQUEST_HEADER_SIZE : Nbd.REQUEST_HEADER_SIZE);
        out.add(extended ? extendedHeader(buf, r) : header(buf, r));
        ByteBuf payload = r.takePayload();
        if (payload != null) {
            out.add(payload);
        }
        r.recycle();
    }

    /** Writes the compact request header of {@code r} to {@code buf}. */
    public static ByteBuf header(ByteBuf buf, NbdRequest r) {
        return buf.writeInt(Nbd.NBD_REQUEST_MAGIC).writeShort(r.flags()).writeShort(r.type())
                .writeLong(r.cookie()).writeLong(r.offset()).writeInt((int) r.length());
    }

    /**
     * Writes the extended request header of {@code r} to {@code buf}, with PAYLOAD_LEN if a
     * payload follows: its own, or on a WRITE without one, the bytes the caller writes right
     * after the header (a file region sent with sendfile).
     */
    public static ByteBuf extendedHeader(ByteBuf buf, NbdRequest r) {
        boolean payload = r.payload() != null || r.type() == Nbd.NBD_CMD_WRITE;
        int flags = payload ? r.flags() | Nbd.NBD_CMD_FLAG_PAYLOAD_LEN : r.flags();
        return buf.writeInt(Nbd.NBD_EXTENDED_REQUEST_MAGIC).writeShort(flags).writeShort(r.type())
                .writeLong(r.cookie()).writeLong(r.offset()).writeLong(r.length());
    }
}
