package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.Hex;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.ServerGreeting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandshakeEncoderTest {
    private static final String NBD_REP_MAGIC = "0003e889045565a9";

    private final EmbeddedChannel channel = new EmbeddedChannel(HandshakeEncoder.INSTANCE);

    @AfterEach
    void finish() {
        assertThat(channel.finish()).as("no unread output left").isFalse();
    }

    /** Writes {@code msg} and returns the single buffer that came out. */
    private ByteBuf encode(Object msg) {
        assertThat(channel.writeOutbound(msg)).isTrue();
        ByteBuf out = channel.readOutbound();
        assertThat((Object) channel.readOutbound()).isNull();
        return out;
    }

    private void assertEncodes(Object msg, String... groups) {
        ByteBuf out = encode(msg);
        try {
            Hex.assertBytes(out, groups);
        } finally {
            out.release();
        }
    }

    @Test
    void serverGreeting() {
        assertEncodes(new ServerGreeting(Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES),
                "4e42444d41474943",     // NBDMAGIC
                "49484156454f5054",     // IHAVEOPT
                "0003");                // handshake flags
    }

    @Test
    void serverGreetingWithoutNoZeroes() {
        assertEncodes(new ServerGreeting(Nbd.NBD_FLAG_FIXED_NEWSTYLE),
                "4e42444d41474943", "49484156454f5054", "0001");
    }

    @Test
    void ackWithoutData() {
        assertEncodes(new OptionReply(Nbd.NBD_OPT_STRUCTURED_REPLY, Nbd.NBD_REP_ACK, Unpooled.EMPTY_BUFFER),
                NBD_REP_MAGIC,          // magic for replies
                "00000008",             // option: NBD_OPT_STRUCTURED_REPLY
                "00000001",             // reply type: NBD_REP_ACK
                "00000000");            // length of the reply; no data follows
    }

    @Test
    void infoReplyWithData() {
        ByteBuf data = Hex.buf("0000", "0000000040000000", "0001");
        assertEncodes(new OptionReply(Nbd.NBD_OPT_GO, Nbd.NBD_REP_INFO, data),
                NBD_REP_MAGIC,
                "00000007",             // option: NBD_OPT_GO
                "00000003",             // reply type: NBD_REP_INFO
                "0000000c",             // length: 12
                "0000",                 // NBD_INFO_EXPORT
                "0000000040000000",     // size
                "0001");                // transmission flags
        assertThat(data.refCnt()).as("reply data released once written").isZero();
    }

    @Test
    void errorReplyWithMessage() {
        assertEncodes(new OptionReply(Nbd.NBD_OPT_GO, Nbd.NBD_REP_ERR_UNKNOWN, Hex.buf(Hex.utf8("no such export"))),
                NBD_REP_MAGIC,
                "00000007",                     // option: NBD_OPT_GO
                "80000006",                     // reply type: NBD_REP_ERR_UNKNOWN (2^31 + 6)
                "0000000e",                     // length: 14
                Hex.utf8("no such export"));    // error message
    }

    @Test
    void replyDataIsWrittenFromItsReaderIndex() {
        ByteBuf data = Hex.buf("ffff", Hex.utf8("disk"));
        data.skipBytes(2);
        assertEncodes(new OptionReply(Nbd.NBD_OPT_LIST, Nbd.NBD_REP_SERVER, data),
                NBD_REP_MAGIC, "00000003", "00000002", "00000004", Hex.utf8("disk"));
    }

    @Test
    void exportNameReplyWithZeroes() {
        assertEncodes(new ExportNameReply(0x0000000280000000L, 0x0107, true),
                "0000000280000000",     // size of the export in bytes
                "0107",                 // transmission flags
                Hex.repeat(0, 124));    // zeroes (reserved)
    }

    @Test
    void exportNameReplyWithoutZeroes() {
        ByteBuf out = encode(new ExportNameReply(512, Nbd.NBD_FLAG_HAS_FLAGS | Nbd.NBD_FLAG_READ_ONLY, false));
        Hex.assertBytes(out, "0000000000000200", "0003");
        assertThat(out.readableBytes()).isEqualTo(ExportNameReply.WIRE_SIZE_NO_ZEROES);
        out.release();
    }

    @Test
    void otherMessagesPassThrough() {
        ByteBuf raw = Hex.buf("cafe");
        ByteBuf out = encode(raw);
        assertThat(out).isSameAs(raw);
        out.release();
    }
}
