package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.bufcached.protocol.OptionReplies.BlockSize;
import org.bufcached.protocol.OptionReplies.MetaContext;
import org.bufcached.protocol.OptionReplies.ServerEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The data of NBD_REP_SERVER, NBD_REP_INFO and NBD_REP_META_CONTEXT, built and parsed. */
class OptionRepliesTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    private ByteBuf built;

    @AfterEach
    void releaseBuilt() {
        if (built != null) {
            assertThat(built.release()).isTrue();
        }
    }

    // ---- NBD_REP_SERVER ----

    @Test
    void serverWithDescription() {
        built = OptionReplies.server(ALLOC, "disk", "my disk");
        Hex.assertBytes(built,
                "00000004",             // length of name
                Hex.utf8("disk"),       // name
                Hex.utf8("my disk"));   // rest: human-readable details
    }

    @Test
    void serverWithoutDescription() {
        built = OptionReplies.server(ALLOC, "disk", null);
        Hex.assertBytes(built, "00000004", Hex.utf8("disk"));
    }

    @Test
    void parseServer() throws Exception {
        ServerEntry e = OptionReplies.parseServer(Hex.buf("00000004", Hex.utf8("disk"), Hex.utf8("my disk")));
        assertThat(e).isEqualTo(new ServerEntry("disk", "my disk"));

        ServerEntry bare = OptionReplies.parseServer(Hex.buf("00000004", Hex.utf8("disk")));
        assertThat(bare).isEqualTo(new ServerEntry("disk", ""));

        ServerEntry defaultExport = OptionReplies.parseServer(Hex.buf("00000000"));
        assertThat(defaultExport).isEqualTo(new ServerEntry("", ""));
    }

    /** "length of name ... MUST be no larger than the reply packet header length - 4". */
    @Test
    void parseServerRejectsBadLengths() {
        assertInvalid(() -> OptionReplies.parseServer(Hex.buf("000000")));
        assertInvalid(() -> OptionReplies.parseServer(Hex.buf("00000005", Hex.utf8("disk"))));
        assertInvalid(() -> OptionReplies.parseServer(Hex.buf("ffffffff", Hex.utf8("disk"))));
    }

    // ---- NBD_REP_INFO ----

    @Test
    void infoExport() throws Exception {
        built = OptionReplies.infoExport(ALLOC, 0x0000000100000200L,
                Nbd.NBD_FLAG_HAS_FLAGS | Nbd.NBD_FLAG_SEND_FLUSH | Nbd.NBD_FLAG_CAN_MULTI_CONN);
        Hex.assertBytes(built,
                "0000",                 // NBD_INFO_EXPORT
                "0000000100000200",     // size of the export in bytes
                "0105");                // transmission flags
        assertThat(built.readableBytes()).isEqualTo(12);   // "length MUST be 12"

        assertThat(OptionReplies.infoType(built)).isEqualTo(Nbd.NBD_INFO_EXPORT);
        assertThat(OptionReplies.parseInfoExport(built)).containsExactly(0x0000000100000200L, 0x0105L);
    }

    @Test
    void parseInfoExportRejectsWrongLengths() {
        assertInvalid(() -> OptionReplies.parseInfoExport(Hex.buf("0000", "0000000100000200", "01")));
        assertInvalid(() -> OptionReplies.parseInfoExport(Hex.buf("0000", "0000000100000200", "010500")));
    }

    @Test
    void infoName() throws Exception {
        built = OptionReplies.infoName(ALLOC, "disk");
        Hex.assertBytes(built,
                "0001",                 // NBD_INFO_NAME
                Hex.utf8("disk"));      // name, length - 2 bytes
        assertThat(OptionReplies.infoType(built)).isEqualTo(Nbd.NBD_INFO_NAME);
        assertThat(OptionReplies.parseInfoString(built)).isEqualTo("disk");
    }

    @Test
    void infoDescription() throws Exception {
        built = OptionReplies.infoDescription(ALLOC, "cached é");
        Hex.assertBytes(built,
                "0002",                     // NBD_INFO_DESCRIPTION
                Hex.utf8("cached é"));      // description, length - 2 bytes
        assertThat(OptionReplies.parseInfoString(built)).isEqualTo("cached é");
    }

    /** "The length MUST be at least 2". */
    @Test
    void parseInfoStringLengths() throws Exception {
        assertThat(OptionReplies.parseInfoString(Hex.buf("0001"))).isEmpty();
        assertInvalid(() -> OptionReplies.parseInfoString(Hex.buf("00")));
        assertInvalid(() -> OptionReplies.parseInfoString(Hex.buf("")));
    }

    @Test
    void infoBlockSize() throws Exception {
        built = OptionReplies.infoBlockSize(ALLOC, new BlockSize(512, 4096, 32L << 20));
        Hex.assertBytes(built,
                "0003",         // NBD_INFO_BLOCK_SIZE
                "00000200",     // minimum block size
                "00001000",     // preferred block size
                "02000000");    // maximum payload size
        assertThat(built.readableBytes()).isEqualTo(14);   // "length MUST be 14"
        assertThat(OptionReplies.parseInfoBlockSize(built)).isEqualTo(new BlockSize(512, 4096, 32L << 20));
    }

    @Test
    void infoBlockSizeMaximumIsUnsigned() throws Exception {
        built = OptionReplies.infoBlockSize(ALLOC, new BlockSize(1, 4096, 0xffffffffL));
        Hex.assertBytes(built, "0003", "00000001", "00001000", "ffffffff");
        assertThat(OptionReplies.parseInfoBlockSize(built).maximum()).isEqualTo(0xffffffffL);
    }

    @Test
    void parseInfoBlockSizeRejectsWrongLengths() {
        assertInvalid(() -> OptionReplies.parseInfoBlockSize(Hex.buf("0003", "00000200", "00001000", "020000")));
        assertInvalid(() -> OptionReplies.parseInfoBlockSize(Hex.buf("0003", "00000200", "00001000", "0200000000")));
    }

    @Test
    void infoTypeDoesNotConsume() throws Exception {
        ByteBuf data = Hex.buf("0003", "00000200", "00001000", "02000000");
        assertThat(OptionReplies.infoType(data)).isEqualTo(Nbd.NBD_INFO_BLOCK_SIZE);
        assertThat(data.readableBytes()).isEqualTo(14);
        assertInvalid(() -> OptionReplies.infoType(Hex.buf("00")));
    }

    // ---- NBD_REP_META_CONTEXT ----

    @Test
    void metaContext() throws Exception {
        built = OptionReplies.metaContext(ALLOC, 1, Nbd.BASE_ALLOCATION);
        Hex.assertBytes(built,
                "00000001",                         // NBD metadata context ID
                Hex.utf8("base:allocation"));       // name of the metadata context
        assertThat(OptionReplies.parseMetaContext(built)).isEqualTo(new MetaContext(1, "base:allocation"));
    }

    @Test
    void parseMetaContextRejectsShortData() {
        assertInvalid(() -> OptionReplies.parseMetaContext(Hex.buf("000000")));
    }

    // ---- error replies ----

    @Test
    void errorMessage() {
        assertThat(OptionReplies.errorMessage(Hex.buf(Hex.utf8("no such export")))).isEqualTo("no such export");
        assertThat(OptionReplies.errorMessage(Hex.buf(""))).isEmpty();
    }

    private interface Parse {
        Object run() throws Exception;
    }

    private static void assertInvalid(Parse parse) {
        assertThatThrownBy(parse::run).isInstanceOf(InvalidOptionException.class);
    }
}
