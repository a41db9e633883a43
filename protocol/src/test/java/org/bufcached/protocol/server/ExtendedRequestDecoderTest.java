package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.bufcached.protocol.Hex;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.OversizedLengthException;
import org.junit.jupiter.api.Test;

/**
 * The request decoder after NBD_OPT_EXTENDED_HEADERS, fed byte layouts written
 * from the spec: magic 32, command flags 16, type 16, cookie 64, offset 64,
 * payload/effect length 64, then the payload when NBD_CMD_FLAG_PAYLOAD_LEN is set.
 */
class ExtendedRequestDecoderTest extends RequestDecoderFixture {
    private static final String MAGIC = "21e41c71";     // NBD_EXTENDED_REQUEST_MAGIC
    private static final String PAYLOAD_LEN = "0020";   // command flags: NBD_CMD_FLAG_PAYLOAD_LEN (bit 5)
    private static final String PAYLOAD_LEN_FUA = "0021";

    /** TRIM of 8 GiB at 4 GiB: an effect length no compact header can carry. */
    private static final String[] TRIM_8G = {
        MAGIC,
        "0000",                 // command flags
        "0004",                 // type: NBD_CMD_TRIM
        "0000000000000011",     // cookie
        "0000000100000000",     // offset: 4 GiB
        "0000000200000000",     // effect length: 8 GiB
    };

    /** WRITE with FUA of 8 bytes at 512, cookie 2, its payload length flagged. */
    private static final String[] WRITE_HEADER = {
        MAGIC, PAYLOAD_LEN_FUA, "0001", "0000000000000002", "0000000000000200", "0000000000000008",
    };
    private static final String WRITE_DATA = "0102030405060708";

    private static final String[] FLUSH = {
        MAGIC, "0000", "0003", "0000000000000003", "0000000000000000", "0000000000000000",
    };

    ExtendedRequestDecoderTest() {
        super(true);
    }

    private void assertTrim(NbdRequest r) {
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_TRIM);
        assertThat(r.cookie()).isEqualTo(0x11);
        assertThat(r.offset()).isEqualTo(4L << 30);
        assertThat(r.length()).isEqualTo(8L << 30);
        assertThat(r.payload()).isNull();
        assertThat(r.payloadDiscarded()).isFalse();
    }

    private void assertWrite(NbdRequest r) {
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(r.flags()).isEqualTo(Nbd.NBD_CMD_FLAG_PAYLOAD_LEN | Nbd.NBD_CMD_FLAG_FUA);
        assertThat(r.cookie()).isEqualTo(2);
        assertThat(r.offset()).isEqualTo(512);
        assertThat(r.length()).isEqualTo(8);
        assertThat(Hex.of(r.payload())).isEqualTo(WRITE_DATA);
    }

    @Test
    void effectLengthOf64Bits() {
        h.write(feed(TRIM_8G));
        NbdRequest r = h.read(NbdRequest.class);
        assertTrim(r);
        done(r);
        h.assertNothingRead();
    }

    @Test
    void effectLengthAbove2To63StaysUnsigned() {
        h.write(feed(MAGIC, "0000", "0006", "0000000000000001", "0000000000000000", "ffffffffffffffff"));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE_ZEROES);
        assertThat(Long.toUnsignedString(r.length())).isEqualTo("18446744073709551615");
        assertThat(r.payload()).isNull();
        done(r);
        assertThat(h.exceptions).as("an effect length is the handler's to refuse").isEmpty();
    }

    @Test
    void writeWithPayloadLength() {
        h.write(feed(Hex.concat(WRITE_HEADER, new String[] {WRITE_DATA})));
        NbdRequest r = h.read(NbdRequest.class);
        assertWrite(r);
        assertThat(memory.reserved()).isEqualTo(8);
        assertThat(RequestDecoder.reservation(r)).isEqualTo(8);
        done(r);
    }

    @Test
    void requestsSplitByteByByte() {
        h.writeByteByByte(feed(Hex.concat(TRIM_8G, WRITE_HEADER, new String[] {WRITE_DATA}, FLUSH)));
        NbdRequest trim = h.read(NbdRequest.class);
        assertTrim(trim);
        done(trim);
        NbdRequest write = h.read(NbdRequest.class);
        assertWrite(write);
        done(write);
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        done(flush);
        h.assertNothingRead();
        assertThat(h.exceptions).isEmpty();
    }

    /** The spec: a WRITE MUST set the flag; the decoder still takes its payload, the handler refuses it. */
    @Test
    void writeWithoutTheFlagStillCarriesItsPayload() {
        h.write(feed(Hex.concat(new String[] {MAGIC, "0000", "0001", "0000000000000002", "0000000000000200",
                "0000000000000008", WRITE_DATA}, FLUSH)));
        NbdRequest w = h.read(NbdRequest.class);
        assertThat(w.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(w.hasFlag(Nbd.NBD_CMD_FLAG_PAYLOAD_LEN)).isFalse();
        assertThat(Hex.of(w.payload())).isEqualTo(WRITE_DATA);
        done(w);
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        done(flush);
    }

    /** "a server SHOULD gracefully consume length bytes of payload (even if it then replies with NBD_EINVAL)". */
    @Test
    void payloadOnAnotherCommandIsConsumedAndMarkedDiscarded() {
        h.write(feed(Hex.concat(new String[] {MAGIC, PAYLOAD_LEN, "0007", "0000000000000005", "0000000000000000",
                "0000000000000010", Hex.repeat(0x33, 16)}, FLUSH)));
        NbdRequest bs = h.read(NbdRequest.class);
        assertThat(bs.type()).isEqualTo(Nbd.NBD_CMD_BLOCK_STATUS);
        assertThat(bs.length()).isEqualTo(16);
        assertThat(bs.payloadDiscarded()).isTrue();
        assertThat(bs.payload()).isNull();
        assertThat(memory.reserved()).as("a skipped payload takes no memory").isZero();
        assertThat(RequestDecoder.reservation(bs)).isZero();
        done(bs);
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        done(flush);
    }

    @Test
    void emptyPayloadOnAnotherCommandNeedsNoFurtherByte() {
        h.write(feed(MAGIC, PAYLOAD_LEN, "0000", "0000000000000006", "0000000000000000", "0000000000000000"));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_READ);
        assertThat(r.payloadDiscarded()).isTrue();
        done(r);
    }

    /** "A server SHOULD initiate hard disconnect if a client sets the NBD_CMD_FLAG_PAYLOAD_LEN flag and uses a
     * length larger than a server's advertised or default maximum payload length". */
    @Test
    void payloadOverTheMaximumEndsTheConnection() {
        h.write(feed(MAGIC, PAYLOAD_LEN, "0001", "0000000000000007", "0000000000000000", "0000000000000401", "0102"));
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(OversizedLengthException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("WRITE payload of 1025 bytes")
                .hasMessageContaining("1024");
        h.write(feed(FLUSH));
        h.assertNothingRead();
        assertThat(h.exceptions).as("nothing decoded after the refusal").hasSize(1);
    }

    @Test
    void payloadLengthOf64BitsEndsTheConnection() {
        h.write(feed(MAGIC, PAYLOAD_LEN, "0001", "0000000000000008", "0000000000000000", "8000000000000000"));
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(OversizedLengthException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("9223372036854775808");
    }

    @Test
    void writeOfExactlyMaxPayloadIsAccepted() {
        h.write(feed(MAGIC, PAYLOAD_LEN, "0001", "0000000000000009", "0000000000000000", "0000000000000400",
                Hex.repeat(0x5a, MAX_PAYLOAD)));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.payload().readableBytes()).isEqualTo(MAX_PAYLOAD);
        done(r);
    }

    /** "Clients that do not ask for it keep compact headers": once asked for, compact ones are an error. */
    @Test
    void compactHeaderAfterNegotiationIsAProtocolError() {
        h.write(feed("25609513", "0000", "0000", "0000000000000001", "0000000000000000", "00001000", "00000000"));
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("compact request header after extended headers");
    }

    /** A compact client that sent one 28-byte request and waits for its reply learns at once. */
    @Test
    void aLoneCompactHeaderIsAnErrorWithoutWaitingForMoreBytes() {
        h.write(feed("25609513", "0000", "0003", "0000000000000001", "0000000000000000", "00000000"));
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("compact request header after extended headers");
    }

    @Test
    void badMagicIsAProtocolError() {
        h.write(feed("21e41c72", "0000", "0000", "0000000000000001", "0000000000000000", "0000000000001000"));
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("21e41c72");
    }

    @Test
    void truncatedHeaderAtCloseIsAProtocolError() {
        h.write(feed(MAGIC, "0000", "0000", "0000000000000001", "0000000000000000", "00000000"));
        h.close();
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }
}
