package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/** The data of NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT. */
public record MetaContextRequest(String exportName, List<String> queries) {

    public static MetaContextRequest parse(ByteBuf data) throws InvalidOptionException {
        String name = readString(data, "export name");
        if (data.readableBytes() < 4) {
            throw new InvalidOptionException("missing number of queries");
        }
        long count = data.readUnsignedInt();
        // Each query takes at least its 4-byte length: refuse counts the data cannot hold.
        if (count > data.readableBytes() / 4) {
            throw new InvalidOptionException("query count " + count + " exceeds the option data");
        }
        List<String> queries = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            queries.add(readString(data, "query"));
        }
        if (data.isReadable()) {
            throw new InvalidOptionException(data.readableBytes() + " bytes after the last query");
        }
        return new MetaContextRequest(name, List.copyOf(queries));
    }

    private static String readString(ByteBuf data, String what) throws InvalidOptionException {
        if (data.readableBytes() < 4) {
            throw new InvalidOptionException("missing length of " + what);
        }
        long length = data.readUnsignedInt();
        if (length > data.readableBytes()) {
            throw new InvalidOptionException(what + " length " + length + " exceeds the option data");
        }
        if (length > Nbd.MAX_STRING_LENGTH) {
            throw new InvalidOptionException(what + " longer than " + Nbd.MAX_STRING_LENGTH + " bytes");
        }
        return Strings.read(data, (int) length);
    }

    public ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf buf = alloc.buffer();
        byte[] name = Strings.bytes(exportName);
        buf.writeInt(name.length).writeBytes(name).writeInt(queries.size());
        for (String q : queries) {
            byte[] b = Strings.bytes(q);
            buf.writeInt(b.length).writeBytes(b);
        }
        return buf;
    }
}
