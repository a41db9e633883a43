package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The data of NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT. */
class MetaContextRequestTest {

    @Test
    void parsesNameAndQueries() throws Exception {
        ByteBuf data = Hex.buf(
                "00000004", Hex.utf8("disk"),                  // length of export name, name
                "00000002",                                    // number of queries
                "0000000f", Hex.utf8("base:allocation"),       // query 1: length, string
                "00000005", Hex.utf8("base:"));                // query 2: length, string
        MetaContextRequest r = MetaContextRequest.parse(data);

        assertThat(r.exportName()).isEqualTo("disk");
        assertThat(r.queries()).containsExactly("base:allocation", "base:");
        assertThat(data.isReadable()).isFalse();
    }

    @Test
    void zeroQueries() throws Exception {
        MetaContextRequest r = MetaContextRequest.parse(Hex.buf(
                "00000000",     // length of export name: the default export
                "00000000"));   // number of queries
        assertThat(r.exportName()).isEmpty();
        assertThat(r.queries()).isEmpty();
    }

    /** "a query length that would require reading beyond the original length given in the option header". */
    @Test
    void queryLengthBeyondTheDataIsInvalid() {
        assertInvalid(Hex.buf(
                "00000004", Hex.utf8("disk"),
                "00000001",
                "00000010", Hex.utf8("base:allocation")));  // 16 announced, 15 present
    }

    @Test
    void exportNameLengthBeyondTheDataIsInvalid() {
        assertInvalid(Hex.buf("00000009", Hex.utf8("disk"), "00000000"));
        assertInvalid(Hex.buf("ffffffff", Hex.utf8("disk"), "00000000"));
    }

    /** A count the data cannot hold must fail fast, not allocate a list of 4 billion entries. */
    @Test
    void hugeQueryCountIsInvalid() {
        assertInvalid(Hex.buf(
                "00000004", Hex.utf8("disk"),
                "ffffffff",                                 // number of queries
                "00000005", Hex.utf8("base:")));
        assertInvalid(Hex.buf(
                "00000004", Hex.utf8("disk"),
                "00000002",                                 // two announced, one present
                "00000005", Hex.utf8("base:")));
    }

    @Test
    void trailingBytesAreInvalid() {
        assertInvalid(Hex.buf(
                "00000004", Hex.utf8("disk"),
                "00000001",
                "00000005", Hex.utf8("base:"),
                "00"));                                     // one byte too many
    }

    @Test
    void missingFieldsAreInvalid() {
        assertInvalid(Hex.buf(""));
        assertInvalid(Hex.buf("000000"));
        assertInvalid(Hex.buf("00000004", Hex.utf8("disk")));           // no count
        assertInvalid(Hex.buf("00000004", Hex.utf8("disk"), "000000")); // short count
    }

    /** Strings "MUST be no longer than 4096 bytes". */
    @Test
    void stringsLongerThan4096BytesAreInvalid() throws Exception {
        String q4096 = "base:" + "x".repeat(4091);
        MetaContextRequest ok = MetaContextRequest.parse(Hex.buf(
                "00000000", "00000001", "00001000", Hex.utf8(q4096)));
        assertThat(ok.queries()).containsExactly(q4096);

        assertInvalid(Hex.buf(
                "00000000", "00000001", "00001001", Hex.utf8(q4096 + "x")));   // query of 4097
        assertInvalid(Hex.buf(
                "00001001", Hex.repeat('a', 4097), "00000000"));             // export name of 4097
    }

    @Test
    void encodesTheSpecLayout() throws Exception {
        ByteBuf buf = new MetaContextRequest("disk", List.of("base:allocation", "base:"))
                .encode(UnpooledByteBufAllocator.DEFAULT);
        try {
            Hex.assertBytes(buf,
                    "00000004", Hex.utf8("disk"),
                    "00000002",
                    "0000000f", Hex.utf8("base:allocation"),
                    "00000005", Hex.utf8("base:"));
            MetaContextRequest back = MetaContextRequest.parse(buf);
            assertThat(back).isEqualTo(new MetaContextRequest("disk", List.of("base:allocation", "base:")));
        } finally {
            buf.release();
        }
    }

    @Test
    void encodesZeroQueries() {
        ByteBuf buf = new MetaContextRequest("", List.of()).encode(UnpooledByteBufAllocator.DEFAULT);
        Hex.assertBytes(buf, "00000000", "00000000");
        buf.release();
    }

    private static void assertInvalid(ByteBuf data) {
        assertThatThrownBy(() -> MetaContextRequest.parse(data)).isInstanceOf(InvalidOptionException.class);
    }
}
