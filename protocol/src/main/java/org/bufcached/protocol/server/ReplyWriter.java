package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bufcached.protocol.Nbd;

/**
 * Server side of the transmission phase, outbound. Each method returns a pooled
 * buffer holding one header (and any small fixed payload); data for READ replies
 * is written after it as the caller's own buffer, so the bytes of the cache are
 * never copied into a reply.
 */
public final class ReplyWriter {
    private ReplyWriter() {
    }

    /** A simple reply; for a successful READ the caller writes the data right after it. */
    public static ByteBuf simpleReply(ByteBufAllocator alloc, long cookie, int error) {
        return alloc.ioBuffer(Nbd.SIMPLE_REPLY_HEADER_SIZE)
                .writeInt(Nbd.NBD_SIMPLE_REPLY_MAGIC).writeInt(error).writeLong(cookie);
    }

    /** The header and offset of an NBD_REPLY_TYPE_OFFSET_DATA chunk; the data follows. */
    public static ByteBuf offsetDataHeader(ByteBufAllocator alloc, long cookie, boolean done, long offset, int dataLength) {
        return chunkHeader(alloc, Nbd.STRUCTURED_REPLY_HEADER_SIZE + 8, cookie, done, Nbd.NBD_REPLY_TYPE_OFFSET_DATA,
                8 + dataLength).writeLong(offset);
    }

    /** A complete NBD_REPLY_TYPE_OFFSET_HOLE chunk. */
    public static ByteBuf offsetHole(ByteBufAllocator alloc, long cookie, boolean done, long offset, int holeSize) {
        return chunkHeader(alloc, Nbd.STRUCTURED_REPLY_HEADER_SIZE + 12, cookie, done, Nbd.NBD_REPLY_TYPE_OFFSET_HOLE, 12)
                .writeLong(offset).writeInt(holeSize);
    }

    /** A complete NBD_REPLY_TYPE_NONE chunk, which always ends a reply. */
    public static ByteBuf none(ByteBufAllocator alloc, long cookie) {
        return chunkHeader(alloc, Nbd.STRUCTURED_REPLY_HEADER_SIZE, cookie, true, Nbd.NBD_REPLY_TYPE_NONE, 0);
    }

    /**
     * The header and context id of an NBD_REPLY_TYPE_BLOCK_STATUS chunk; the caller
     * writes {@code descriptorBytes} of descriptors (32-bit length, 32-bit flags each)
     * right after it.
     */
    public static ByteBuf blockStatusHeader(ByteBufAllocator alloc, long cookie, boolean done, int contextId,
                                            int descriptorBytes) {
        return chunkHeader(alloc, Nbd.STRUCTURED_REPLY_HEADER_SIZE + 4, cookie, done,
                Nbd.NBD_REPLY_TYPE_BLOCK_STATUS, 4 + descriptorBytes).writeInt(contextId);
    }

    /** A complete NBD_REPLY_TYPE_ERROR chunk, marked done. */
    public static ByteBuf error(ByteBufAllocator alloc, long cookie, int error, String message) {
        byte[] msg = message(message);
        int length = 6 + msg.length;
        return chunkHeader(alloc, Nbd.STRUCTURED_REPLY_HEADER_SIZE + length, cookie, true, Nbd.NBD_REPLY_TYPE_ERROR, length)
                .writeInt(error).writeShort(msg.length).writeBytes(msg);
    }

    /** A complete NBD_REPLY_TYPE_ERROR_OFFSET chunk, marked done. */
    public static ByteBuf errorOffset(ByteBufAllocator alloc, long cookie, int error, String message, long offset) {
        byte[] msg = message(message);
        int length = 14 + msg.length;
        return chunkHeader(alloc, Nbd.STRUCTURED_REPLY_HEADER_SIZE + length, cookie, true,
                Nbd.NBD_REPLY_TYPE_ERROR_OFFSET, length)
                .writeInt(error).writeShort(msg.length).writeBytes(msg).writeLong(offset);
    }

    private static ByteBuf chunkHeader(ByteBufAllocator alloc, int capacity, long cookie, boolean done, int type, int length) {
        return alloc.ioBuffer(capacity)
                .writeInt(Nbd.NBD_STRUCTURED_REPLY_MAGIC)
                .writeShort(done ? Nbd.NBD_REPLY_FLAG_DONE : 0)
                .writeShort(type)
                .writeLong(cookie)
                .writeInt(length);
    }

    private static byte[] message(String message) {
        byte[] b = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (b.length > Nbd.MAX_STRING_LENGTH) {
            // Strings are UTF-8: do not cut a character in half. Back off while the
            // first byte left out is a continuation byte (10xxxxxx).
            int cut = Nbd.MAX_STRING_LENGTH;
            while (cut > 0 && (b[cut] & 0xC0) == 0x80) {
                cut--;
            }
            return Arrays.copyOf(b, cut);
        }
        return b;
    }
}
