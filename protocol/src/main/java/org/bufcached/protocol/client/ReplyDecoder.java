package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.TransmissionMode;

/**
 * Client side of the transmission phase, inbound: simple replies and structured
 * or extended reply chunks, each emitted with its payload as a retained slice of
 * the received bytes.
 *
 * <p>A simple reply does not say whether data follows; only the client knows which
 * cookies are READs and how long they are. The decoder asks {@link PendingReads}.
 * A reply of a style that was not negotiated (a structured chunk with simple
 * replies; anything but an extended chunk with extended headers, and an extended
 * chunk without them), an unknown cookie on a simple reply, a bad magic or a chunk
 * above {@code maxChunk} are protocol violations.
 */
public final class ReplyDecoder extends ByteToMessageDecoder {
    /** What the decoder needs to know about requests in flight. */
    public interface PendingReads {
        /** Sentinel of {@link #simpleReplyPayload} for a cookie that is not in flight. */
        long UNKNOWN = -1;

        /** Bytes that follow a successful simple reply to {@code cookie}: the READ length, 0, or {@link #UNKNOWN}. */
        long simpleReplyPayload(long cookie);
    }

    private final PendingReads pending;
    private final boolean structuredReplies;
    private final boolean extendedHeaders;
    private final int maxChunk;

    public ReplyDecoder(PendingReads pending, TransmissionMode mode, int maxChunk) {
        this.pending = pending;
        this.structuredReplies = mode.chunks();
        this.extendedHeaders = mode.extendedHeaders();
        this.maxChunk = maxChunk;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int start = in.readerIndex();
        int magic = in.getInt(start);
        if (extendedHeaders) {
            if (magic != Nbd.NBD_EXTENDED_REPLY_MAGIC) {
                throw new NbdProtocolException(magic == Nbd.NBD_SIMPLE_REPLY_MAGIC
                        || magic == Nbd.NBD_STRUCTURED_REPLY_MAGIC
                        ? "compact reply (magic 0x" + Integer.toHexString(magic) + ") after extended headers were negotiated"
                        : "bad reply magic 0x" + Integer.toHexString(magic));
            }
            decodeExtendedChunk(in, start, out);
        } else if (magic == Nbd.NBD_SIMPLE_REPLY_MAGIC) {
            decodeSimple(in, start, out);
        } else if (magic == Nbd.NBD_STRUCTURED_REPLY_MAGIC) {
            if (!structuredReplies) {
                throw new NbdProtocolException("structured reply received but structured replies were not negotiated");
            }
            decodeChunk(in, start, out);
        } else if (magic == Nbd.NBD_EXTENDED_REPLY_MAGIC) {
            throw new NbdProtocolException("extended reply received but extended headers were not negotiated");
        } else {
            throw new NbdProtocolException("bad reply magic 0x" + Integer.toHexString(magic));
        }
    }

    private void decodeSimple(ByteBuf in, int start, List<Object> out) {
        if (in.readableBytes() < Nbd.SIMPLE_REPLY_HEADER_SIZE) {
            return;
        }
        int error = in.getInt(start + 4);
        long cookie = in.getLong(start + 8);
        long payload = pending.simpleReplyPayload(cookie);
        if (payload == PendingReads.UNKNOWN) {
            throw new NbdProtocolException("simple reply for unknown cookie 0x" + Long.toHexString(cookie));
        }
        // With structured replies the server never sends data in a simple reply.
        long length = error != 0 || structuredReplies ? 0 : payload;
        if (in.readableBytes() < Nbd.SIMPLE_REPLY_HEADER_SIZE + length) {
            return;
        }
        in.skipBytes(Nbd.SIMPLE_REPLY_HEADER_SIZE);
        ByteBuf data = length == 0 ? Unpooled.EMPTY_BUFFER : in.readRetainedSlice((int) length);
        out.add(new SimpleReply(error, cookie, data));
    }

    private void decodeChunk(ByteBuf in, int start, List<Object> out) {
        if (in.readableBytes() < Nbd.STRUCTURED_REPLY_HEADER_SIZE) {
            return;
        }
        long length = in.getUnsignedInt(start + 16);
        if (length > maxChunk) {
            throw new NbdProtocolException("structured reply chunk of " + length + " bytes exceeds the limit of " + maxChunk);
        }
        if (in.readableBytes() < Nbd.STRUCTURED_REPLY_HEADER_SIZE + length) {
            return;
        }
        int flags = in.getUnsignedShort(start + 4);
        int type = in.getUnsignedShort(start + 6);
        long cookie = in.getLong(start + 8);
        in.skipBytes(Nbd.STRUCTURED_REPLY_HEADER_SIZE);
        out.add(new StructuredReplyChunk(flags, type, cookie, in.readRetainedSlice((int) length)));
    }

    /** The spec: "a client MAY initiate hard disconnect if a server's reply length is unexpectedly large". */
    private void decodeExtendedChunk(ByteBuf in, int start, List<Object> out) {
        if (in.readableBytes() < Nbd.EXTENDED_REPLY_HEADER_SIZE) {
            return;
        }
        long length = in.getLong(start + 24);
        if (Long.compareUnsigned(length, maxChunk) > 0) {
            throw new NbdProtocolException("extended reply chunk of " + Long.toUnsignedString(length)
                    + " bytes exceeds the limit of " + maxChunk);
        }
        if (in.readableBytes() < Nbd.EXTENDED_REPLY_HEADER_SIZE + length) {
            return;
        }
        int flags = in.getUnsignedShort(start + 4);
        int type = in.getUnsignedShort(start + 6);
        long cookie = in.getLong(start + 8);
        long offset = in.getLong(start + 16);
        in.skipBytes(Nbd.EXTENDED_REPLY_HEADER_SIZE);
        out.add(StructuredReplyChunk.extended(flags, type, cookie, offset, in.readRetainedSlice((int) length)));
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (in.isReadable()) {
            throw new NbdProtocolException("connection closed in the middle of a reply (" + in.readableBytes()
                    + " bytes of it received)");
        }
    }
}
