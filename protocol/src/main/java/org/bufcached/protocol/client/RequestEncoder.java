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
 * becomes a 28-byte header followed by the WRITE payload as the caller's own
 * buffer (no copy). The request is recycled once encoded; its payload travels on.
 * The inverse of the server's {@link org.bufcached.protocol.server.RequestDecoder}.
 */
@ChannelHandler.Sharable
public final class RequestEncoder extends MessageToMessageEncoder<NbdRequest> {
    public static final RequestEncoder INSTANCE = new RequestEncoder();

    @Override
    protected void encode(ChannelHandlerContext ctx, NbdRequest r, List<Object> out) {
        out.add(header(ctx.alloc().ioBuffer(Nbd.REQUEST_HEADER_SIZE), r));
        ByteBuf payload = r.takePayload();
        if (payload != null) {
            out.add(payload);
        }
        r.recycle();
    }

    /** Writes the request header of {@code r} to {@code buf}. */
    public static ByteBuf header(ByteBuf buf, NbdRequest r) {
        return buf.writeInt(Nbd.NBD_REQUEST_MAGIC).writeShort(r.flags()).writeShort(r.type())
                .writeLong(r.cookie()).writeLong(r.offset()).writeInt((int) r.length());
    }
}
