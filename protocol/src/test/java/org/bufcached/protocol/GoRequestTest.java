package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The data of NBD_OPT_INFO / NBD_OPT_GO. */
class GoRequestTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    @Test
    void parsesNameAndInformationRequests() throws Exception {
        ByteBuf data = Hex.buf(
                "00000004",         // length of name
                Hex.utf8("disk"),   // name of the export
                "0002",             // number of information requests
                "0003", "0001");    // NBD_INFO_BLOCK_SIZE, NBD_INFO_NAME
        GoRequest go = GoRequest.parse(data);

        assertThat(go.exportName()).isEqualTo("disk");
        assertThat(go.infoRequests()).containsExactly(Nbd.NBD_INFO_BLOCK_SIZE, Nbd.NBD_INFO_NAME);
        assertThat(go.requested(Nbd.NBD_INFO_BLOCK_SIZE)).isTrue();
        assertThat(go.requested(Nbd.NBD_INFO_DESCRIPTION)).isFalse();
        assertThat(data.isReadable()).isFalse();
    }

    @Test
    void zeroInformationRequests() throws Exception {
        GoRequest go = GoRequest.parse(Hex.buf(
                "00000004", Hex.utf8("disk"), // name
                "0000"));                     // number of information requests
        assertThat(go.exportName()).isEqualTo("disk");
        assertThat(go.infoRequests()).isEmpty();
    }

    /** "If no name is specified (i.e. a zero length string is provided), this specifies the default export". */
    @Test
    void emptyNameIsTheDefaultExport() throws Exception {
        GoRequest go = GoRequest.parse(Hex.buf(
                "00000000",   // length of name
                "0001",       // number of information requests
                "0000"));     // NBD_INFO_EXPORT
        assertThat(go.exportName()).isEmpty();
        assertThat(go.infoRequests()).containsExactly(Nbd.NBD_INFO_EXPORT);
    }

    @Test
    void utf8Name() throws Exception {
        GoRequest go = GoRequest.parse(Hex.buf("00000005", Hex.utf8("dé£"), "0000"));
        assertThat(go.exportName()).isEqualTo("dé£");
    }

    /** "length of name ... MUST be no larger than the option data length - 6". */
    @Test
    void nameLongerThanTheDataIsInvalid() {
        assertInvalid(Hex.buf("00000005", Hex.utf8("disk"), "0000"));
        // The name fits but leaves no room for the 16-bit count.
        assertInvalid(Hex.buf("00000006", Hex.utf8("disk"), "0000"));
        // Unsigned: 0xffffffff is 4 GiB, not -1.
        assertInvalid(Hex.buf("ffffffff", Hex.utf8("disk"), "0000"));
    }

    @Test
    void countThatDoesNotMatchTheDataIsInvalid() {
        // Two requests announced, one present.
        assertInvalid(Hex.buf("00000004", Hex.utf8("disk"), "0002", "0003"));
        // One request announced, two present.
        assertInvalid(Hex.buf("00000004", Hex.utf8("disk"), "0001", "0003", "0001"));
        // An odd trailing byte.
        assertInvalid(Hex.buf("00000004", Hex.utf8("disk"), "0001", "0003", "00"));
    }

    @Test
    void dataShorterThanSixBytesIsInvalid() {
        assertInvalid(Hex.buf(""));
        assertInvalid(Hex.buf("00000000", "00"));
    }

    @Test
    void encodesTheSpecLayout() {
        ByteBuf buf = new GoRequest("disk", new int[] {Nbd.NBD_INFO_EXPORT, Nbd.NBD_INFO_BLOCK_SIZE}).encode(ALLOC);
        try {
            Hex.assertBytes(buf,
                    "00000004",           // length of name
                    Hex.utf8("disk"),     // name
                    "0002",               // number of information requests
                    "0000", "0003");      // NBD_INFO_EXPORT, NBD_INFO_BLOCK_SIZE
        } finally {
            buf.release();
        }
    }

    @Test
    void encodesEmptyNameAndNoRequests() throws Exception {
        ByteBuf buf = new GoRequest("", new int[0]).encode(ALLOC);
        Hex.assertBytes(buf, "00000000", "0000");
        GoRequest back = GoRequest.parse(buf);
        assertThat(back.exportName()).isEmpty();
        assertThat(back.infoRequests()).isEmpty();
        buf.release();
    }

    private static void assertInvalid(ByteBuf data) {
        assertThatThrownBy(() -> GoRequest.parse(data)).isInstanceOf(InvalidOptionException.class);
    }
}
