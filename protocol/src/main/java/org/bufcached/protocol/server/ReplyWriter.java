package org.bufcached.protocol.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.TransmissionMode;

/**
 * Server side of the transmission phase, outbound. Each method returns a pooled
 * buffer holding one header (and any small fixed payload); data for READ replies
 * is written after it as the caller's own buffer, so the bytes of the cache are
 * never copied into a reply.
 *
 * <p>Simple replies are static ({@link #simpleReply}); reply chunks come from the
 * writer of the connection's {@link TransmissionMode}: {@link #STRUCTURED} writes
 * 20-byte headers, {@link #EXTENDED} 32-byte ones with the request's offset and a
 * 64-bit length, and BLOCK_STATUS as NBD_REPLY_TYPE_BLOCK_STATUS_EXT. The payloads
 * of the other chunk types are the same in both.
 */
public final class ReplyWriter {
    public static final ReplyWriter STRUCTURED = new ReplyWriter(false);
    public static final ReplyWriter EXTENDED = new ReplyWriter(true);

    private final boolean extended;
    private final int headerSize;

    private ReplyWriter(boolean extended) {
        this.extended = extended;
        this.headerSize = extended ? Nbd.EXTENDED_REPLY_HEADER_SIZE : Nbd.STRUCTURED_REPLY_HEADER_SIZE;
    }

    /** The chunk writer of a connection in {@code mode}, which must use chunks. */
    public static ReplyWriter of(TransmissionMode mode) {
        if (!mode.chunks()) {
            throw new IllegalArgumentException("no reply chunks in " + mode + " mode");
        }
        return mode.extendedHeaders() ? EXTENDED : STRUCTURED;
    }

    /** A simple reply; for a successful READ the caller writes the data right after it. */
    public static ByteBuf simpleReply(ByteBufAllocator alloc, long cookie, int error) {
        return alloc.ioBuffer(Nbd.SIMPLE_REPLY_HEADER_SIZE)
                .writeInt(Nbd.NBD_SIMPLE_REPLY_MAGIC).writeInt(error).writeLong(cookie);
    }

    /**
     * Bytes of one block status descriptor after the header of {@link #blockStatusHeader}:
     * 32-bit length and flags, or with extended headers 64-bit length and status.
     */
    public int descriptorSize() {
        return extended ? 16 : 8;
    }

    /**
     * The header and offset of an NBD_REPLY_TYPE_OFFSET_DATA chunk; the data follows.
     * {@code requestOffset} is the request's, which an extended header repeats;
     * {@code offset} is where the data lies.
     */
    public ByteBuf offsetDataHeader(ByteBufAllocator alloc, long cookie, long requestOffset, boolean done, long offset,
                                    int dataLength) {
        return chunkHeader(alloc, 8, cookie, requestOffset, done, Nbd.NBD_REPLY_TYPE_OFFSET_DATA, 8L + dataLength)
                .writeLong(offset);
    }

    /** A complete NBD_REPLY_TYPE_OFFSET_HOLE chunk. */
    public ByteBuf offsetHole(ByteBufAllocator alloc, long cookie, long requestOffset, boolean done, long offset,
                              int holeSize) {
        return chunkHeader(alloc, 12, cookie, requestOffset, done, Nbd.NBD_REPLY_TYPE_OFFSET_HOLE, 12)
                .writeLong(offset).writeInt(holeSize);
    }

    /** A complete NBD_REPLY_TYPE_NONE chunk, which always ends a reply. */
    public ByteBuf none(ByteBufAllocator alloc, long cookie, long requestOffset) {
        return chunkHeader(alloc, 0, cookie, requestOffset, true, Nbd.NBD_REPLY_TYPE_NONE, 0);
    }

    /**
     * The header of a status chunk up to its first descriptor: NBD_REPLY_TYPE_BLOCK_STATUS
     * with the context id, or with extended headers NBD_REPLY_TYPE_BLOCK_STATUS_EXT with
     * the context id and the descriptor count. The caller writes {@code descriptorBytes}
     * of descriptors ({@link #descriptorSize()} each) right after it.
     */
    public ByteBuf blockStatusHeader(ByteBufAllocator alloc, long cookie, long requestOffset, boolean done,
                                     int contextId, int descriptorBytes) {
        if (!extended) {
            return chunkHeader(alloc, 4, cookie, requestOffset, done, Nbd.NBD_REPLY_TYPE_BLOCK_STATUS,
                    4L + descriptorBytes).writeInt(contextId);
        }
        if (descriptorBytes % 16 != 0) {
            throw new IllegalArgumentException("extended descriptors take 16 bytes each, not " + descriptorBytes + " in all");
        }
        return chunkHeader(alloc, 8, cookie, requestOffset, done, Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT,
                8L + descriptorBytes).writeInt(contextId).writeInt(descriptorBytes / 16);
    }

    /** A complete NBD_REPLY_TYPE_ERROR chunk, marked done. */
    public ByteBuf error(ByteBufAllocator alloc, long cookie, long requestOffset, int error, String message) {
        byte[] msg = message(message);
        int length = 6 + msg.length;
        return chunkHeader(alloc, length, cookie, requestOffset, true, Nbd.NBD_REPLY_TYPE_ERROR, length)
                .writeInt(error).writeShort(msg.length).writeBytes(msg);
    }

    /** A complete NBD_REPLY_TYPE_ERROR_OFFSET chunk, marked done. */
    public ByteBuf errorOffset(ByteBufAllocator alloc, long cookie, long requestOffset, int error, String message,
                               long offset) {
        byte[] msg = message(message);
        int length = 14 + msg.length;
        return chunkHeader(alloc, length, cookie, requestOffset, true, Nbd.NBD_REPLY_TYPE_ERROR_OFFSET, length)
                .writeInt(error).writeShort(msg.length).writeBytes(msg).writeLong(offset);
    }

    /** A chunk header in a buffer with room for {@code extra} more bytes. */
    private ByteBuf chunkHeader(ByteBufAllocator alloc, int extra, long cookie, long requestOffset, boolean done,
                                int type, long length) {
        ByteBuf b = alloc.ioBuffer(headerSize + extra);
        if (!extended) {
            return b.writeInt(Nbd.NBD_STRUCTURED_REPLY_MAGIC)
                    .writeShort(done ? Nbd.NBD_REPLY_FLAG_DONE : 0)
                    .writeShort(type)
                    .writeLong(cookie)
                    .writeInt((int) length);
        }
        return b.writeInt(Nbd.NBD_EXTENDED_REPLY_MAGIC)
                .writeShort(done ? Nbd.NBD_REPLY_FLAG_DONE : 0)
                .writeShort(type)
                .writeLong(cookie)
                .writeLong(requestOffset)
                .writeLong(length);
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
