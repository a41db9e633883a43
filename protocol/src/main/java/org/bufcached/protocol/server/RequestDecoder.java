package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;

/**
 * Server side of the transmission phase, inbound: request headers and WRITE
 * payloads. A payload travels on as a retained slice of the received bytes, not a
 * copy. A payload larger than {@code maxPayload} is skipped as it arrives (never
 * buffered) and the request is emitted with {@link NbdRequest#payloadDiscarded()},
 * so the connection stays usable and the handler fails just that request.
 */
public final class RequestDecoder extends ByteToMessageDecoder {
    private final int maxPayload;
    private NbdRequest pending;
    private long toSkip;

    public RequestDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (toSkip > 0) {
            int n = (int) Math.min(toSkip, in.readableBytes());
            in.skipBytes(n);
            toSkip -= n;
            if (toSkip == 0) {
                out.add(pending);
                pending = null;
            }
            return;
        }
        if (in.readableBytes() < Nbd.REQUEST_HEADER_SIZE) {
            return;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start);
        if (magic != Nbd.NBD_REQUEST_MAGIC) {
            throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
        }
        int flags = in.getUnsignedShort(start + 4);
        int type = in.getUnsignedShort(start + 6);
        long cookie = in.getLong(start + 8);
        long offset = in.getLong(start + 16);
        long length = in.getUnsignedInt(start + 24);
        if (type != Nbd.NBD_CMD_WRITE) {
            in.skipBytes(Nbd.REQUEST_HEADER_SIZE);
            out.add(NbdRequest.newInstance(flags, type, cookie, offset, length, null));
            return;
        }
        if (length > maxPayload) {
            in.skipBytes(Nbd.REQUEST_HEADER_SIZE);
            pending = NbdRequest.newInstance(flags, type, cookie, offset, length, null).markPayloadDiscarded();
            toSkip = length;
            decode(ctx, in, out);
            return;
        }
        if (in.readableBytes() < Nbd.REQUEST_HEADER_SIZE + length) {
            return;
        }
        in.skipBytes(Nbd.REQUEST_HEADER_SIZE);
        ByteBuf payload = in.readRetainedSlice((int) length);
        out.add(NbdRequest.newInstance(flags, type, cookie, offset, length, payload));
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.isReadable()) {
            decode(ctx, in, out);
        }
        if (in.isReadable() || toSkip > 0) {
            throw new NbdProtocolException("connection closed in the middle of a request");
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.recycle();
            pending = null;
        }
    }
}
