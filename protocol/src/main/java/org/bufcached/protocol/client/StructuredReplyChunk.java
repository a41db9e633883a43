package org.bufcached.protocol.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import java.nio.charset.StandardCharsets;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;

/**
 * One structured or extended reply chunk: flags, type, cookie, the extended
 * header's offset, and its payload as content. The accessors read the payload of
 * each chunk type and check the lengths the spec fixes; a violation is an
 * {@link NbdProtocolException}, which calls for a hard disconnect. BLOCK_STATUS
 * descriptors are read in either layout: NBD_REPLY_TYPE_BLOCK_STATUS (32-bit) or
 * NBD_REPLY_TYPE_BLOCK_STATUS_EXT (64-bit, with a descriptor count). The inverse of
 * the server's {@link org.bufcached.protocol.server.ReplyWriter}.
 */
public final class StructuredReplyChunk extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;
    private final boolean extended;
    private final long headerOffset;

    /** A chunk with a 20-byte structured reply header. */
    public StructuredReplyChunk(int flags, int type, long cookie, ByteBuf payload) {
        this(flags, type, cookie, false, 0, payload);
    }

    private StructuredReplyChunk(int flags, int type, long cookie, boolean extended, long headerOffset,
                                 ByteBuf payload) {
        super(payload);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.extended = extended;
        this.headerOffset = headerOffset;
    }

    /** A chunk with a 32-byte extended header, whose {@code headerOffset} repeats the request's offset. */
    public static StructuredReplyChunk extended(int flags, int type, long cookie, long headerOffset, ByteBuf payload) {
        return new StructuredReplyChunk(flags, type, cookie, true, headerOffset, payload);
    }

    /** Whether the chunk came with an extended header. */
    public boolean extended() {
        return extended;
    }

    /** The extended header's offset field, which MUST match the request's; 0 for a structured chunk. */
    public long headerOffset() {
        return headerOffset;
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

    /** The metadata context id of a BLOCK_STATUS or BLOCK_STATUS_EXT chunk. */
    public int contextId() {
        checkBlockStatus();
        return content().getInt(content().readerIndex());
    }

    /** The number of descriptors of a BLOCK_STATUS or BLOCK_STATUS_EXT chunk. */
    public int extentCount() {
        checkBlockStatus();
        return type == Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT ? (content().readableBytes() - 8) / 16
                : (content().readableBytes() - 4) / 8;
    }

    /**
     * The length of descriptor {@code i} of a status chunk (unsigned, nonzero; an
     * extended one beyond 2^63 is refused, no export is that large).
     */
    public long extentLength(int i) {
        long length = type == Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT
                ? content().getLong(content().readerIndex() + 8 + 16 * i)
                : content().getUnsignedInt(content().readerIndex() + 4 + 8 * i);
        require(length != 0, "block status descriptor of length 0");
        require(length > 0, "block status descriptor of " + Long.toUnsignedString(length) + " bytes");
        return length;
    }

    /** The status flags of descriptor {@code i} of a status chunk: 64 bits in an extended one. */
    public long extentStatus(int i) {
        return type == Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT
                ? content().getLong(content().readerIndex() + 16 + 16 * i)
                : content().getUnsignedInt(content().readerIndex() + 8 + 8 * i);
    }

    private void checkBlockStatus() {
        int length = content().readableBytes();
        if (type == Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT) {
            require(length >= 24 && (length - 8) % 16 == 0, "BLOCK_STATUS_EXT chunk of " + length + " bytes");
            long count = content().getUnsignedInt(content().readerIndex() + 4);
            require(count == (length - 8) / 16, "BLOCK_STATUS_EXT descriptor count " + count + " for " + length
                    + " bytes");
            return;
        }
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
        return (extended ? "ExtendedReplyChunk(cookie=" : "StructuredReplyChunk(cookie=") + Long.toHexString(cookie)
                + ", type=" + type + ", flags=" + flags + ", " + content().readableBytes() + " bytes)";
    }
}
