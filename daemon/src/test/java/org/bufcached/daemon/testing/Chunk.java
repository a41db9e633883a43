package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One structured or extended reply chunk, as read off the wire. {@code offset} is
 * the extended header's offset field (-1 for a structured chunk, which has none).
 */
public record Chunk(int flags, int type, long cookie, long offset, byte[] payload) {

    public boolean done() {
        return (flags & NbdWire.REPLY_FLAG_DONE) != 0;
    }

    public boolean isError() {
        return (type & 0x8000) != 0;
    }

    /** The error field of an error chunk, checked to be nonzero as the spec requires. */
    public int error() {
        assertThat(isError()).as("error chunk").isTrue();
        assertThat(payload.length).as("error chunk length").isGreaterThanOrEqualTo(6);
        int error = ByteBuffer.wrap(payload).getInt();
        assertThat(error).as("error chunk error field").isNotZero();
        return error;
    }

    /** The human-readable message of an error chunk, with its length checked against the spec's limits. */
    public String message() {
        ByteBuffer b = ByteBuffer.wrap(payload);
        b.getInt();
        int length = b.getShort() & 0xFFFF;
        assertThat(length).as("message length").isLessThanOrEqualTo(payload.length - 6)
                .isLessThanOrEqualTo(NbdWire.MAX_STRING);
        byte[] message = new byte[length];
        b.get(message);
        return new String(message, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "Chunk[type=" + type + ", flags=" + flags + ", cookie=" + cookie + ", offset=" + offset + ", "
                + payload.length + " bytes]";
    }
}
