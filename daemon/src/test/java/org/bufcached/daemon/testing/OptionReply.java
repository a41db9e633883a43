package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** One fixed newstyle option reply, as read off the wire. */
public record OptionReply(int option, int type, byte[] data) {

    public boolean isError() {
        return type < 0;
    }

    public boolean isFinal() {
        return type == NbdWire.REP_ACK || isError();
    }

    public ByteBuffer buffer() {
        return ByteBuffer.wrap(data);
    }

    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    /** For NBD_REP_INFO: the information type in the first two bytes. */
    public int infoType() {
        assertThat(type).as("reply type").isEqualTo(NbdWire.REP_INFO);
        assertThat(data.length).as("NBD_REP_INFO length").isGreaterThanOrEqualTo(2);
        return buffer().getShort() & 0xFFFF;
    }

    @Override
    public String toString() {
        return "OptionReply[option=" + option + ", type=0x" + Integer.toHexString(type) + ", " + data.length + " bytes]";
    }
}
