package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** The data of NBD_OPT_INFO and NBD_OPT_GO: an export name and the information requested. */
public record GoRequest(String exportName, int[] infoRequests) {

    public boolean requested(int infoType) {
        for (int r : infoRequests) {
            if (r == infoType) {
                return true;
            }
        }
        return false;
    }

    public static GoRequest parse(ByteBuf data) throws InvalidOptionException {
        if (data.readableBytes() < 6) {
            throw new InvalidOptionException("option data shorter than 6 bytes");
        }
        long nameLength = data.readUnsignedInt();
        if (nameLength > data.readableBytes() - 2) {
            throw new InvalidOptionException("name length " + nameLength + " exceeds the option data");
        }
        if (nameLength > Nbd.MAX_STRING_LENGTH) {
            throw new InvalidOptionException("export name longer than " + Nbd.MAX_STRING_LENGTH + " bytes");
        }
        String name = Strings.read(data, (int) nameLength);
        int count = data.readUnsignedShort();
        if (data.readableBytes() != count * 2) {
            throw new InvalidOptionException("information request count " + count + " does not match the option length");
        }
        int[] requests = new int[count];
        for (int i = 0; i < count; i++) {
            requests[i] = data.readUnsignedShort();
        }
        return new GoRequest(name, requests);
    }

    public ByteBuf encode(ByteBufAllocator alloc) {
        byte[] name = Strings.bytes(exportName);
        ByteBuf buf = alloc.buffer(4 + name.length + 2 + 2 * infoRequests.length);
        buf.writeInt(name.length).writeBytes(name).writeShort(infoRequests.length);
        for (int r : infoRequests) {
            buf.writeShort(r);
        }
        return buf;
    }
}
