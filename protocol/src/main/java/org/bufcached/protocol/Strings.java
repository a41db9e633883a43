package org.bufcached.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Strings on the wire are UTF-8 without terminator, their length given elsewhere. */
final class Strings {
    private Strings() {
    }

    static String read(ByteBuf buf, int length) {
        String s = buf.toString(buf.readerIndex(), length, StandardCharsets.UTF_8);
        buf.skipBytes(length);
        return s;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
