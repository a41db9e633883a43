package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import java.nio.charset.StandardCharsets;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;

/**
 * One structured reply chunk: flags, type, cookie and its payload as content. The
 * accessors read the payload of each chunk type and check the lengths the spec
 * fixes; a violation is an {@link NbdProtocolException}, which calls for a hard
 * disconnect. The inverse of the server's {@link org.bufcached.protocol.server.ReplyWriter}.
 */
public final class StructuredReplyChunk extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;

    public StructuredReplyChunk(int flags, int type, long cookie, ByteBuf payload) {
        super(payload);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
    }

    public int flags() {
        return flags;
    }

    public int type() {
        return type;
    }

    public long cookie() {
        return cookie;
    }

    public boolean done() {
        return (flags & Nbd.NBD_REPLY_FLAG_DONE) != 0;
    }

    /** Error chunks have bit 15 of the type set, known or not. */
    public boolean isError() {
        return (type & 0x8000) != 0;
    }

    /** NBD_REPLY_TYPE_OFFSET_DATA, NBD_REPLY_TYPE_OFFSET_HOLE and errors carry an offset; this is it. */
    public long offset() {
        ByteBuf p = content();
        switch (type) {
            case Nbd.NBD_REPLY_TYPE_OFFSET_DATA:
                require(p.readableBytes() >= 9, "OFFSET_DATA chunk shorter than 9 bytes");
                return p.getLong(p.readerIndex());
            case Nbd.NBD_REPLY_TYPE_OFFSET_HOLE:
                require(p.readableBytes() == 12, "OFFSET_HOLE chunk of " + p.readableBytes() + " bytes, not 12");
                return p.getLong(p.readerIndex());
            case Nbd.NBD_REPLY_TYPE_ERROR_OFFSET:
                require(p.readableBytes() >= 14 + messageLength(), "ERROR_OFFSET chunk too short");
                return p.getLong(p.readerIndex() + 6 + messageLength());
            default:
                throw new IllegalStateException("chunk type " + type + " has no offset");
        }
    }

    /** The data of an OFFSET_DATA chunk, a slice of the content (not retained). */
    public ByteBuf data() {
        offset();
        ByteBuf p = content();
        return p.slice(p.readerIndex() + 8, p.readableBytes() - 8);
    }

    /** The hole size of an OFFSET_HOLE chunk. */
    public long holeSize() {
        offset();
        long size = content().getUnsignedInt(content().readerIndex() + 8);
        require(size != 0, "OFFSET_HOLE chunk with a hole size of 0");
        return size;
    }

    /** The error value of an error chunk. */
    public int error() {
        require(content().readableBytes() >= 6, "error chunk shorter than 6 bytes");
        return content().getInt(content().readerIndex());
    }

    /** The human-readable message of an error chunk, possibly empty. */
    public String errorMessage() {
        int length = messageLength();
        return content().toString(content().readerIndex() + 6, length, StandardCharsets.UTF_8);
    }

    private int messageLength() {
        ByteBuf p = content();
        require(p.readableBytes() >= 6, "error chunk shorter than 6 bytes");
        int length = p.getUnsignedShort(p.readerIndex() + 4);
        require(length <= p.readableBytes() - 6, "error message length " + length + " exceeds the chunk");
        return length;
    }

    /** The metadata context id of a BLOCK_STATUS chunk. */
    public int contextId() {
        checkBlockStatus();
        return content().getInt(content().readerIndex());
    }

    /** The number of descriptors of a BLOCK_STATUS chunk. */
    public int extentCount() {
        checkBlockStatus();
        return (content().readableBytes() - 4) / 8;
    }

    /** The length of descriptor {@code i} of a BLOCK_STATUS chunk (unsigned, nonzero). */
    public long extentLength(int i) {
        long length = content().getUnsignedInt(content().readerIndex() + 4 + 8 * i);
        require(length != 0, "block status descriptor of length 0");
        return length;
    }

    /** The status flags of descriptor {@code i} of a BLOCK_STATUS chunk. */
    public int extentFlags(int i) {
        return content().getInt(content().readerIndex() + 8 + 8 * i);
    }

    private void checkBlockStatus() {
        int length = content().readableBytes();
        require(type == Nbd.NBD_REPLY_TYPE_BLOCK_STATUS, "not a BLOCK_STATUS chunk");
        require(length >= 12 && (length - 4) % 8 == 0, "BLOCK_STATUS chunk of " + length + " bytes");
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new NbdProtocolException(message);
        }
    }

    @Override
    public String toString() {
        return "StructuredReplyChunk(cookie=" + Long.toHexString(cookie) + ", type=" + type + ", flags=" + flags + ", "
                + content().readableBytes() + " bytes)";
    }
}
