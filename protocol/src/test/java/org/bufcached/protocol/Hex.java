package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Wire vectors written by hand as hex. Each argument is one field (or group of
 * fields) of a message, so that a test can put the spec's field name beside it:
 *
 * <pre>
 * Hex.buf("25609513",          // NBD_REQUEST_MAGIC
 *         "0000",              // command flags
 *         ...)
 * </pre>
 *
 * Whitespace inside a group is ignored.
 */
public final class Hex {
    private Hex() {
    }

    /** The bytes of the concatenated groups. */
    public static byte[] bytes(String... groups) {
        String hex = String.join("", groups).replaceAll("\\s+", "");
        if (hex.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits: " + hex);
        }
        return ByteBufUtil.decodeHexDump(hex);
    }

    /** The groups of several messages, in order, as one vector: to send them in one read. */
    public static String[] concat(String[]... messages) {
        List<String> all = new ArrayList<>();
        for (String[] m : messages) {
            all.addAll(List.of(m));
        }
        return all.toArray(new String[0]);
    }

    /** A heap buffer holding the concatenated groups. */
    public static ByteBuf buf(String... groups) {
        return Unpooled.wrappedBuffer(bytes(groups));
    }

    /** The hex of a string's UTF-8 bytes, to build vectors holding text. */
    public static String utf8(String s) {
        return ByteBufUtil.hexDump(s.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code count} repetitions of the byte {@code b}, as hex. */
    public static String repeat(int b, int count) {
        return String.format("%02x", b).repeat(count);
    }

    /** The readable bytes of {@code buf} as lower-case hex, without consuming them. */
    public static String of(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
    }

    /** Asserts that the readable bytes of {@code buf} are exactly the concatenated groups. */
    public static void assertBytes(ByteBuf buf, String... groups) {
        assertThat(of(buf)).isEqualTo(ByteBufUtil.hexDump(bytes(groups)));
    }
}
