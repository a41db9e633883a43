package org.bufcached.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCounted;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.client.SimpleReply;
import org.bufcached.protocol.client.StructuredReplyChunk;

/**
 * One request in flight and the state of its reply. It knows what the spec allows
 * as an answer to its own command: which chunk types, where READ data may lie, that
 * BLOCK_STATUS needs a chunk for the selected context. What it does not accept is
 * an {@link NbdProtocolException}, and the connection then goes down.
 * Used on the event loop only.
 */
final class Command {
    final int type;
    final int flags;
    final long offset;
    final long length;
    /** The WRITE data until it goes on the wire: a {@link ByteBuf}, or a {@link io.netty.channel.FileRegion}. */
    private ReferenceCounted payload;
    private final ReplyCallback<Object> callback;
    private final int contextId;

    private ByteBuf data;
    private long covered;
    private NbdCommandException error;
    private List<Extent> extents;

    @SuppressWarnings("unchecked")
    Command(int type, int flags, long offset, long length, ReferenceCounted payload, ReplyCallback<?> callback,
            int contextId) {
        this.type = type;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.payload = payload;
        this.callback = (ReplyCallback<Object>) callback;
        this.contextId = contextId;
    }

    /** Hands the WRITE payload over to the request that goes on the wire. */
    ReferenceCounted takePayload() {
        ReferenceCounted p = payload;
        payload = null;
        return p;
    }

    long simpleReplyPayload() {
        return type == Nbd.NBD_CMD_READ ? length : 0;
    }

    /** Handles a simple reply, which always completes the command. */
    void onSimpleReply(SimpleReply reply, boolean structured) {
        if (reply.error() != 0) {
            error(reply.error(), null);
        } else if (type == Nbd.NBD_CMD_READ) {
            if (structured) {
                throw new NbdProtocolException("simple reply without error to a READ while structured replies are in use");
            }
            data = reply.content().retain();
            covered = length;
        } else if (type == Nbd.NBD_CMD_BLOCK_STATUS) {
            throw new NbdProtocolException("simple reply without error to BLOCK_STATUS");
        }
        finish();
    }

    /** Handles one chunk; returns true when it was the final one and the command is finished. */
    boolean onChunk(StructuredReplyChunk chunk, ByteBufAllocator alloc) {
        if (chunk.extended() && chunk.headerOffset() != offset) {
            throw new NbdProtocolException("extended reply chunk with offset " + Long.toUnsignedString(chunk.headerOffset())
                    + " for a request at " + Long.toUnsignedString(offset));
        }
        if (chunk.isError()) {
            error(chunk.error(), chunk.errorMessage());
            if (chunk.type() == Nbd.NBD_REPLY_TYPE_ERROR_OFFSET) {
                checkBounds(chunk.offset(), 0);
            }
        } else {
            switch (chunk.type()) {
                case Nbd.NBD_REPLY_TYPE_NONE:
                    if (!chunk.done() || chunk.content().isReadable()) {
                        throw new NbdProtocolException("NBD_REPLY_TYPE_NONE chunk must be final and empty");
                    }
                    break;
                case Nbd.NBD_REPLY_TYPE_OFFSET_DATA:
                    requireType(Nbd.NBD_CMD_READ, chunk);
                    ByteBuf d = chunk.data();
                    content(chunk.offset(), d.readableBytes(), d, alloc);
                    break;
                case Nbd.NBD_REPLY_TYPE_OFFSET_HOLE:
                    requireType(Nbd.NBD_CMD_READ, chunk);
                    content(chunk.offset(), chunk.holeSize(), null, alloc);
                    break;
                case Nbd.NBD_REPLY_TYPE_BLOCK_STATUS:
                case Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT:
                    requireType(Nbd.NBD_CMD_BLOCK_STATUS, chunk);
                    if (chunk.extended() != (chunk.type() == Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT)) {
                        // The spec: the 32-bit type only without extended headers, the 64-bit one only with them.
                        throw new NbdProtocolException("status chunk type " + chunk.type() + " with "
                                + (chunk.extended() ? "extended" : "compact") + " headers");
                    }
                    blockStatus(chunk);
                    break;
                default:
                    throw new NbdProtocolException("unknown structured reply type " + chunk.type() + " to "
                            + Nbd.commandName(type));
            }
        }
        if (chunk.done()) {
            finish();
            return true;
        }
        return false;
    }

    private void requireType(int expected, StructuredReplyChunk chunk) {
        if (type != expected) {
            throw new NbdProtocolException("structured reply type " + chunk.type() + " is not valid for "
                    + Nbd.commandName(type));
        }
    }

    private void checkBounds(long at, long size) {
        if (Long.compareUnsigned(at, offset) < 0 || at - offset + size > length) {
            throw new NbdProtocolException("reply chunk at " + Long.toUnsignedString(at) + "+" + size
                    + " outside the request " + offset + "+" + length);
        }
    }

    /**
     * READ content, data or a hole. The common answer is one data chunk for the whole
     * range: that slice is kept as it is. Anything else is assembled in a zeroed buffer.
     */
    private void content(long at, long size, ByteBuf chunkData, ByteBufAllocator alloc) {
        checkBounds(at, size);
        covered += size;
        if (covered > length) {
            throw new NbdProtocolException("READ reply chunks overlap: " + covered + " bytes for a request of " + length);
        }
        if (size == length && chunkData != null) {
            data = chunkData.retain();
            return;
        }
        if (data == null) {
            data = alloc.buffer((int) length).writeZero((int) length);
        }
        if (chunkData != null) {
            data.setBytes((int) (at - offset), chunkData, chunkData.readerIndex(), chunkData.readableBytes());
        }
    }

    private void blockStatus(StructuredReplyChunk chunk) {
        if (chunk.contextId() != contextId) {
            return; // a context we did not ask about in this call; the spec lets servers report all selected ones
        }
        if (extents != null) {
            throw new NbdProtocolException("two BLOCK_STATUS chunks for context " + contextId);
        }
        int n = chunk.extentCount();
        extents = new ArrayList<>(n);
        long at = offset;
        for (int i = 0; i < n; i++) {
            long len = chunk.extentLength(i);
            if (i < n - 1 && at + len - offset >= length) {
                throw new NbdProtocolException("BLOCK_STATUS extents beyond the requested length");
            }
            long status = chunk.extentStatus(i);
            if (status >>> 32 != 0) {
                throw new NbdProtocolException("base:allocation status 0x" + Long.toHexString(status)
                        + " with any of the upper 32 bits set");
            }
            extents.add(new Extent(at, len, (int) status));
            at += len;
        }
    }

    private void error(int code, String message) {
        if (error == null) {
            error = new NbdCommandException(type, NbdError.fromCode(code), message);
        }
    }

    boolean shutdownError() {
        return error != null && error.error() == NbdError.ESHUTDOWN;
    }

    private void finish() {
        if (error != null) {
            fail(error);
            return;
        }
        if (type == Nbd.NBD_CMD_READ && covered != length) {
            throw new NbdProtocolException("READ reply covers " + covered + " of " + length + " bytes");
        }
        if (type == Nbd.NBD_CMD_BLOCK_STATUS && extents == null) {
            throw new NbdProtocolException("BLOCK_STATUS reply without a chunk for the selected context");
        }
        Object result = type == Nbd.NBD_CMD_READ ? data : type == Nbd.NBD_CMD_BLOCK_STATUS ? extents : null;
        data = null;
        callback.completed(result, null);
    }

    /** Completes the command with an error, releasing what it holds. */
    void fail(Throwable t) {
        release();
        callback.completed(null, t);
    }

    private void release() {
        if (data != null) {
            data.release();
            data = null;
        }
        if (payload != null) {
            payload.release();
            payload = null;
        }
    }
}
