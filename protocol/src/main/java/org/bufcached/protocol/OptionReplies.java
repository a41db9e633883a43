package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The data of option replies, built by the server and read back by the client:
 * NBD_REP_SERVER, NBD_REP_INFO (each information type) and NBD_REP_META_CONTEXT.
 */
public final class OptionReplies {
    private OptionReplies() {
    }

    /** An export of NBD_OPT_LIST: its name, then an optional human-readable description. */
    public record ServerEntry(String name, String description) {
    }

    /** Size constraints of NBD_INFO_BLOCK_SIZE. */
    public record BlockSize(int minimum, int preferred, long maximum) {
    }

    /** One context of NBD_REP_META_CONTEXT. */
    public record MetaContext(int id, String name) {
    }

    public static ByteBuf server(ByteBufAllocator alloc, String name, String description) {
        byte[] n = Strings.bytes(name);
        byte[] d = Strings.bytes(description == null ? "" : description);
        return alloc.buffer(4 + n.length + d.length).writeInt(n.length).writeBytes(n).writeBytes(d);
    }

    public static ServerEntry parseServer(ByteBuf data) throws InvalidOptionException {
        if (data.readableBytes() < 4) {
            throw new InvalidOptionException("NBD_REP_SERVER shorter than 4 bytes");
        }
        long length = data.readUnsignedInt();
        if (length > data.readableBytes()) {
            throw new InvalidOptionException("NBD_REP_SERVER name length " + length + " exceeds the reply");
        }
        String name = Strings.read(data, (int) length);
        String description = data.toString(StandardCharsets.UTF_8);
        data.skipBytes(data.readableBytes());
        return new ServerEntry(name, description);
    }

    public static ByteBuf infoExport(ByteBufAllocator alloc, long size, int transmissionFlags) {
        return alloc.buffer(12).writeShort(Nbd.NBD_INFO_EXPORT).writeLong(size).writeShort(transmissionFlags);
    }

    public static ByteBuf infoName(ByteBufAllocator alloc, String name) {
        return infoString(alloc, Nbd.NBD_INFO_NAME, name);
    }

    public static ByteBuf infoDescription(ByteBufAllocator alloc, String description) {
        return infoString(alloc, Nbd.NBD_INFO_DESCRIPTION, description);
    }

    private static ByteBuf infoString(ByteBufAllocator alloc, int type, String s) {
        byte[] b = Strings.bytes(s);
        return alloc.buffer(2 + b.length).writeShort(type).writeBytes(b);
    }

    public static ByteBuf infoBlockSize(ByteBufAllocator alloc, BlockSize bs) {
        return alloc.buffer(14).writeShort(Nbd.NBD_INFO_BLOCK_SIZE)
                .writeInt(bs.minimum()).writeInt(bs.preferred()).writeInt((int) bs.maximum());
    }

    /** The information type of an NBD_REP_INFO payload, without consuming it. */
    public static int infoType(ByteBuf data) throws InvalidOptionException {
        if (data.readableBytes() < 2) {
            throw new InvalidOptionException("NBD_REP_INFO shorter than 2 bytes");
        }
        return data.getUnsignedShort(data.readerIndex());
    }

    /** Reads an NBD_INFO_EXPORT payload; returns {size, transmission flags}. */
    public static long[] parseInfoExport(ByteBuf data) throws InvalidOptionException {
        expectLength(data, 12, "NBD_INFO_EXPORT");
        data.skipBytes(2);
        long size = data.readLong();
        int flags = data.readUnsignedShort();
        return new long[] {size, flags};
    }

    /** Reads the string of an NBD_INFO_NAME or NBD_INFO_DESCRIPTION payload. */
    public static String parseInfoString(ByteBuf data) throws InvalidOptionException {
        if (data.readableBytes() < 2) {
            throw new InvalidOptionException("information reply shorter than 2 bytes");
        }
        data.skipBytes(2);
        return Strings.read(data, data.readableBytes());
    }

    public static BlockSize parseInfoBlockSize(ByteBuf data) throws InvalidOptionException {
        expectLength(data, 14, "NBD_INFO_BLOCK_SIZE");
        data.skipBytes(2);
        return new BlockSize(data.readInt(), data.readInt(), data.readUnsignedInt());
    }

    public static ByteBuf metaContext(ByteBufAllocator alloc, int id, String name) {
        byte[] b = Strings.bytes(name);
        return alloc.buffer(4 + b.length).writeInt(id).writeBytes(b);
    }

    public static MetaContext parseMetaContext(ByteBuf data) throws InvalidOptionException {
        if (data.readableBytes() < 4) {
            throw new InvalidOptionException("NBD_REP_META_CONTEXT shorter than 4 bytes");
        }
        int id = data.readInt();
        return new MetaContext(id, Strings.read(data, data.readableBytes()));
    }

    /** The optional message of an error reply, or an empty string. */
    public static String errorMessage(ByteBuf data) {
        return data.toString(StandardCharsets.UTF_8);
    }

    private static void expectLength(ByteBuf data, int length, String what) throws InvalidOptionException {
        if (data.readableBytes() != length) {
            throw new InvalidOptionException(what + " of " + data.readableBytes() + " bytes, expected " + length);
        }
    }
}
