package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.Hex;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.OptionRequest;
import org.bufcached.protocol.OversizedLengthException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandshakeDecoderTest {
    private static final int MAX_OPTION_DATA = 64 * 1024;

    private static final String CLIENT_FLAGS = "00000003";          // NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES
    private static final String IHAVEOPT = "49484156454f5054";

    /** NBD_OPT_GO for export "disk" asking for NBD_INFO_BLOCK_SIZE. */
    private static final String[] OPT_GO = {
        IHAVEOPT,
        "00000007",                     // option: NBD_OPT_GO
        "0000000c",                     // length of option data: 12
        "00000004", Hex.utf8("disk"),   // data: length of name, name
        "0001", "0003",                 // data: one information request, NBD_INFO_BLOCK_SIZE
    };
    private static final String OPT_GO_DATA = "00000004" + Hex.utf8("disk") + "0001" + "0003";

    /** NBD_OPT_STRUCTURED_REPLY, which carries no data. */
    private static final String[] OPT_STRUCTURED_REPLY = {
        IHAVEOPT,
        "00000008",                     // option: NBD_OPT_STRUCTURED_REPLY
        "00000000",                     // length of option data: 0
    };

    private final DecoderHarness h = new DecoderHarness(new HandshakeDecoder(MAX_OPTION_DATA));
    private final List<ByteBuf> fed = new ArrayList<>();

    @AfterEach
    void noLeaks() {
        h.channel.finishAndReleaseAll();
        for (ByteBuf b : fed) {
            assertThat(b.refCnt()).as("input buffer released").isZero();
        }
    }

    private ByteBuf feed(String... groups) {
        ByteBuf b = Hex.buf(groups);
        fed.add(b);
        return b;
    }

    private void assertOption(int option, String dataHex) {
        OptionRequest o = h.read(OptionRequest.class);
        try {
            assertThat(o.option()).isEqualTo(option);
            assertThat(o.oversized()).isFalse();
            assertThat(o.declaredLength()).isEqualTo(dataHex.length() / 2);
            assertThat(Hex.of(o.content())).isEqualTo(dataHex);
        } finally {
            o.release();
        }
    }

    @Test
    void clientFlagsThenOptions() {
        h.write(feed(CLIENT_FLAGS));
        assertThat(h.read(ClientFlags.class)).isEqualTo(new ClientFlags(3));
        h.assertNothingRead();

        h.write(feed(OPT_GO));
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        h.assertNothingRead();
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void everythingInOneRead() {
        h.write(feed(Hex.concat(new String[] {CLIENT_FLAGS}, OPT_STRUCTURED_REPLY, OPT_GO)));
        assertThat(h.read(ClientFlags.class).flags()).isEqualTo(3);
        assertOption(Nbd.NBD_OPT_STRUCTURED_REPLY, "");
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        h.assertNothingRead();
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void optionsSplitByteByByte() {
        h.writeByteByByte(feed(Hex.concat(new String[] {CLIENT_FLAGS}, OPT_GO, OPT_GO)));
        assertThat(h.read(ClientFlags.class).flags()).isEqualTo(3);
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        h.assertNothingRead();
        assertThat(h.buffered()).isZero();
    }

    @Test
    void nothingIsEmittedBeforeTheOptionIsComplete() {
        h.write(feed(CLIENT_FLAGS));
        h.read(ClientFlags.class);
        h.write(feed(IHAVEOPT, "00000007", "0000000c", "00000004"));
        h.assertNothingRead();
        h.write(feed(Hex.utf8("disk"), "0001", "0003"));
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
    }

    /** An option without data must come out as soon as its header is in, not wait for more bytes. */
    @Test
    void optionWithoutDataAtTheEndOfARead() {
        h.write(feed(CLIENT_FLAGS));
        h.read(ClientFlags.class);
        h.write(feed(OPT_STRUCTURED_REPLY));
        assertOption(Nbd.NBD_OPT_STRUCTURED_REPLY, "");
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void optionWithoutDataFollowedByAnother() {
        h.write(feed(Hex.concat(new String[] {CLIENT_FLAGS}, OPT_STRUCTURED_REPLY, OPT_STRUCTURED_REPLY, OPT_GO)));
        h.read(ClientFlags.class);
        assertOption(Nbd.NBD_OPT_STRUCTURED_REPLY, "");
        assertOption(Nbd.NBD_OPT_STRUCTURED_REPLY, "");
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void optionDataOfExactlyTheMaximumIsBuffered() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000001", "00010000"));   // NBD_OPT_EXPORT_NAME, 64 KiB
        h.read(ClientFlags.class);
        h.write(feed(Hex.repeat(0x61, MAX_OPTION_DATA)));
        OptionRequest o = h.read(OptionRequest.class);
        assertThat(o.oversized()).isFalse();
        assertThat(o.content().readableBytes()).isEqualTo(MAX_OPTION_DATA);
        o.release();
    }

    @Test
    void optionDataOneByteOverTheMaximumIsSkipped() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000001", "00010001"));   // NBD_OPT_EXPORT_NAME, 64 KiB + 1
        h.read(ClientFlags.class);
        h.write(feed(Hex.repeat(0x61, MAX_OPTION_DATA + 1)));
        OptionRequest o = h.read(OptionRequest.class);
        assertThat(o.oversized()).isTrue();
        assertThat(o.declaredLength()).isEqualTo(MAX_OPTION_DATA + 1);
        assertThat(o.content().isReadable()).isFalse();
        o.release();
    }

    @Test
    void oversizedOptionIsSkippedWithoutBuffering() {
        int total = 1024 * 1024;
        h.write(feed(CLIENT_FLAGS,
                IHAVEOPT,
                "00000007",         // option: NBD_OPT_GO
                "00100000"));       // length of option data: 1 MiB
        h.read(ClientFlags.class);

        byte[] chunk = new byte[64 * 1024];
        for (int sent = 0; sent < total; sent += chunk.length) {
            ByteBuf b = Unpooled.wrappedBuffer(chunk);
            fed.add(b);
            h.write(b);
            assertThat(b.refCnt()).as("chunk not retained").isZero();
            assertThat(h.buffered()).as("nothing cumulated").isZero();
            if (sent + chunk.length < total) {
                h.assertNothingRead();
            }
        }

        OptionRequest o = h.read(OptionRequest.class);
        assertThat(o.option()).isEqualTo(Nbd.NBD_OPT_GO);
        assertThat(o.oversized()).isTrue();
        assertThat(o.declaredLength()).isEqualTo(total);
        assertThat(o.content().readableBytes()).isZero();
        o.release();
        h.assertNothingRead();

        h.write(feed(OPT_GO));
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void oversizedOptionFollowedByAnotherInTheSameRead() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000003", "00010002", Hex.repeat(0, MAX_OPTION_DATA + 2)));
        h.write(feed(OPT_GO));
        h.read(ClientFlags.class);
        OptionRequest o = h.read(OptionRequest.class);
        assertThat(o.oversized()).isTrue();
        assertThat(o.declaredLength()).isEqualTo(MAX_OPTION_DATA + 2);
        o.release();
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
    }

    @Test
    void optionDataAnnouncedBeyondTwoToThe25IsRefusedAtOnceAndNothingMoreDecoded() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000007", "02000001", "0102"));
        h.write(feed(OPT_GO));
        h.read(ClientFlags.class);
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(OversizedLengthException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("NBD_OPT_GO data of 33554433 bytes")
                .hasMessageContaining("hard limit of 33554432");
    }

    @Test
    void optionDataAnnouncedAtTwoToThe25IsStillSkipped() {
        // The spec: lengths up to 2^25 SHOULD NOT be treated as a denial of service.
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000007", "02000000", "0102"));
        h.read(ClientFlags.class);
        h.assertNothingRead();
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void badOptionMagicIsAProtocolError() {
        h.write(feed(CLIENT_FLAGS,
                "49484156454f5055",     // not IHAVEOPT
                "00000007", "00000000"));
        assertThat(h.read(ClientFlags.class).flags()).isEqualTo(3);
        assertThat(h.exceptions).singleElement()
                .isInstanceOf(NbdProtocolException.class)
                .isInstanceOf(DecoderException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("49484156454f5055");
    }

    @Test
    void truncatedOptionDataAtCloseIsAProtocolError() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000007", "0000000c", "00000004", Hex.utf8("di")));
        h.read(ClientFlags.class);
        h.close();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void truncatedOptionHeaderAtCloseIsAProtocolError() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "000000"));
        h.read(ClientFlags.class);
        h.close();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void truncatedClientFlagsAtCloseIsAProtocolError() {
        h.write(feed("0000"));
        h.close();
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void partlySkippedOversizedOptionAtCloseIsAProtocolError() {
        h.write(feed(CLIENT_FLAGS, IHAVEOPT, "00000007", "00100000", Hex.repeat(0, 1000)));
        h.read(ClientFlags.class);
        h.close();
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void closeBetweenOptionsIsClean() {
        h.write(feed(Hex.concat(new String[] {CLIENT_FLAGS}, OPT_GO)));
        h.read(ClientFlags.class);
        assertOption(Nbd.NBD_OPT_GO, OPT_GO_DATA);
        h.close();
        assertThat(h.exceptions).isEmpty();
    }
}
