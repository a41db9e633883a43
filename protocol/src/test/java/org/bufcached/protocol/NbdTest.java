package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Every constant of {@link Nbd} against the number written in the spec. */
class NbdTest {

    /** "2^31 + n" and "2^15 + n" as the spec writes the error reply types. */
    private static int bit31Plus(int n) {
        return (int) ((1L << 31) + n);
    }

    @Test
    void magicNumbers() {
        assertThat(Nbd.NBDMAGIC).isEqualTo(0x4e42444d41474943L);
        assertThat(Nbd.IHAVEOPT).isEqualTo(0x49484156454F5054L);
        assertThat(Nbd.NBD_REP_MAGIC).isEqualTo(0x3e889045565a9L);
        assertThat(Nbd.NBD_REQUEST_MAGIC).isEqualTo(0x25609513);
        assertThat(Nbd.NBD_SIMPLE_REPLY_MAGIC).isEqualTo(0x67446698);
        assertThat(Nbd.NBD_STRUCTURED_REPLY_MAGIC).isEqualTo(0x668e33ef);
        // The EXTENDED_HEADERS extension (nbd-proto-extended-headers.md).
        assertThat(Nbd.NBD_EXTENDED_REQUEST_MAGIC).isEqualTo(0x21e41c71);
        assertThat(Nbd.NBD_EXTENDED_REPLY_MAGIC).isEqualTo(0x6e8a278c);
    }

    @Test
    void magicNumbersSpellTheirAsciiNames() {
        assertThat(new String(Hex.bytes(Long.toHexString(Nbd.NBDMAGIC)), StandardCharsets.US_ASCII))
                .isEqualTo("NBDMAGIC");
        assertThat(new String(Hex.bytes(Long.toHexString(Nbd.IHAVEOPT)), StandardCharsets.US_ASCII))
                .isEqualTo("IHAVEOPT");
    }

    @Test
    void handshakeAndClientFlags() {
        assertThat(Nbd.NBD_FLAG_FIXED_NEWSTYLE).isEqualTo(1);   // bit 0
        assertThat(Nbd.NBD_FLAG_NO_ZEROES).isEqualTo(2);        // bit 1
        assertThat(Nbd.NBD_FLAG_C_FIXED_NEWSTYLE).isEqualTo(1); // bit 0
        assertThat(Nbd.NBD_FLAG_C_NO_ZEROES).isEqualTo(2);      // bit 1
    }

    @Test
    void transmissionFlags() {
        assertThat(Nbd.NBD_FLAG_HAS_FLAGS).isEqualTo(1 << 0);
        assertThat(Nbd.NBD_FLAG_READ_ONLY).isEqualTo(1 << 1);
        assertThat(Nbd.NBD_FLAG_SEND_FLUSH).isEqualTo(1 << 2);
        assertThat(Nbd.NBD_FLAG_SEND_FUA).isEqualTo(1 << 3);
        assertThat(Nbd.NBD_FLAG_ROTATIONAL).isEqualTo(1 << 4);
        assertThat(Nbd.NBD_FLAG_SEND_TRIM).isEqualTo(1 << 5);
        assertThat(Nbd.NBD_FLAG_SEND_WRITE_ZEROES).isEqualTo(1 << 6);
        assertThat(Nbd.NBD_FLAG_SEND_DF).isEqualTo(1 << 7);
        assertThat(Nbd.NBD_FLAG_CAN_MULTI_CONN).isEqualTo(1 << 8);
        assertThat(Nbd.NBD_FLAG_SEND_RESIZE).isEqualTo(1 << 9);
        assertThat(Nbd.NBD_FLAG_SEND_CACHE).isEqualTo(1 << 10);
        assertThat(Nbd.NBD_FLAG_SEND_FAST_ZERO).isEqualTo(1 << 11);
        assertThat(Nbd.NBD_FLAG_BLOCK_STATUS_PAYLOAD).isEqualTo(1 << 12);
    }

    @Test
    void optionTypes() {
        assertThat(Nbd.NBD_OPT_EXPORT_NAME).isEqualTo(1);
        assertThat(Nbd.NBD_OPT_ABORT).isEqualTo(2);
        assertThat(Nbd.NBD_OPT_LIST).isEqualTo(3);
        assertThat(Nbd.NBD_OPT_PEEK_EXPORT).isEqualTo(4);
        assertThat(Nbd.NBD_OPT_STARTTLS).isEqualTo(5);
        assertThat(Nbd.NBD_OPT_INFO).isEqualTo(6);
        assertThat(Nbd.NBD_OPT_GO).isEqualTo(7);
        assertThat(Nbd.NBD_OPT_STRUCTURED_REPLY).isEqualTo(8);
        assertThat(Nbd.NBD_OPT_LIST_META_CONTEXT).isEqualTo(9);
        assertThat(Nbd.NBD_OPT_SET_META_CONTEXT).isEqualTo(10);
        assertThat(Nbd.NBD_OPT_EXTENDED_HEADERS).isEqualTo(11);
    }

    @Test
    void optionReplyTypes() {
        assertThat(Nbd.NBD_REP_ACK).isEqualTo(1);
        assertThat(Nbd.NBD_REP_SERVER).isEqualTo(2);
        assertThat(Nbd.NBD_REP_INFO).isEqualTo(3);
        assertThat(Nbd.NBD_REP_META_CONTEXT).isEqualTo(4);
        assertThat(Nbd.NBD_REP_FLAG_ERROR).isEqualTo(bit31Plus(0));
        assertThat(Nbd.NBD_REP_ERR_UNSUP).isEqualTo(bit31Plus(1));
        assertThat(Nbd.NBD_REP_ERR_POLICY).isEqualTo(bit31Plus(2));
        assertThat(Nbd.NBD_REP_ERR_INVALID).isEqualTo(bit31Plus(3));
        assertThat(Nbd.NBD_REP_ERR_PLATFORM).isEqualTo(bit31Plus(4));
        assertThat(Nbd.NBD_REP_ERR_TLS_REQD).isEqualTo(bit31Plus(5));
        assertThat(Nbd.NBD_REP_ERR_UNKNOWN).isEqualTo(bit31Plus(6));
        assertThat(Nbd.NBD_REP_ERR_SHUTDOWN).isEqualTo(bit31Plus(7));
        assertThat(Nbd.NBD_REP_ERR_BLOCK_SIZE_REQD).isEqualTo(bit31Plus(8));
        assertThat(Nbd.NBD_REP_ERR_TOO_BIG).isEqualTo(bit31Plus(9));
        assertThat(Nbd.NBD_REP_ERR_EXT_HEADER_REQD).isEqualTo(bit31Plus(10));
    }

    @Test
    void informationTypes() {
        assertThat(Nbd.NBD_INFO_EXPORT).isEqualTo(0);
        assertThat(Nbd.NBD_INFO_NAME).isEqualTo(1);
        assertThat(Nbd.NBD_INFO_DESCRIPTION).isEqualTo(2);
        assertThat(Nbd.NBD_INFO_BLOCK_SIZE).isEqualTo(3);
    }

    @Test
    void commandTypesAndFlags() {
        assertThat(Nbd.NBD_CMD_READ).isEqualTo(0);
        assertThat(Nbd.NBD_CMD_WRITE).isEqualTo(1);
        assertThat(Nbd.NBD_CMD_DISC).isEqualTo(2);
        assertThat(Nbd.NBD_CMD_FLUSH).isEqualTo(3);
        assertThat(Nbd.NBD_CMD_TRIM).isEqualTo(4);
        assertThat(Nbd.NBD_CMD_CACHE).isEqualTo(5);
        assertThat(Nbd.NBD_CMD_WRITE_ZEROES).isEqualTo(6);
        assertThat(Nbd.NBD_CMD_BLOCK_STATUS).isEqualTo(7);

        assertThat(Nbd.NBD_CMD_FLAG_FUA).isEqualTo(1 << 0);
        assertThat(Nbd.NBD_CMD_FLAG_NO_HOLE).isEqualTo(1 << 1);
        assertThat(Nbd.NBD_CMD_FLAG_DF).isEqualTo(1 << 2);
        assertThat(Nbd.NBD_CMD_FLAG_REQ_ONE).isEqualTo(1 << 3);
        assertThat(Nbd.NBD_CMD_FLAG_FAST_ZERO).isEqualTo(1 << 4);
        assertThat(Nbd.NBD_CMD_FLAG_PAYLOAD_LEN).isEqualTo(1 << 5);
    }

    @Test
    void structuredReplyFlagsAndTypes() {
        assertThat(Nbd.NBD_REPLY_FLAG_DONE).isEqualTo(1);
        assertThat(Nbd.NBD_REPLY_TYPE_NONE).isEqualTo(0);
        assertThat(Nbd.NBD_REPLY_TYPE_OFFSET_DATA).isEqualTo(1);
        assertThat(Nbd.NBD_REPLY_TYPE_OFFSET_HOLE).isEqualTo(2);
        assertThat(Nbd.NBD_REPLY_TYPE_BLOCK_STATUS).isEqualTo(5);
        assertThat(Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT).isEqualTo(6);
        assertThat(Nbd.NBD_REPLY_TYPE_ERROR).isEqualTo((1 << 15) + 1);
        assertThat(Nbd.NBD_REPLY_TYPE_ERROR_OFFSET).isEqualTo((1 << 15) + 2);
    }

    @Test
    void baseAllocationContext() {
        assertThat(Nbd.BASE_ALLOCATION).isEqualTo("base:allocation");
        assertThat(Nbd.NBD_STATE_HOLE).isEqualTo(1 << 0);
        assertThat(Nbd.NBD_STATE_ZERO).isEqualTo(1 << 1);
    }

    @Test
    void wireSizes() {
        // magic 4 + flags 2 + type 2 + cookie 8 + offset 8 + length 4
        assertThat(Nbd.REQUEST_HEADER_SIZE).isEqualTo(4 + 2 + 2 + 8 + 8 + 4);
        // magic 4 + flags 2 + type 2 + cookie 8 + offset 8 + length 8
        assertThat(Nbd.EXTENDED_REQUEST_HEADER_SIZE).isEqualTo(4 + 2 + 2 + 8 + 8 + 8);
        // magic 4 + flags 2 + type 2 + cookie 8 + offset 8 + length 8
        assertThat(Nbd.EXTENDED_REPLY_HEADER_SIZE).isEqualTo(4 + 2 + 2 + 8 + 8 + 8);
        // magic 4 + error 4 + cookie 8
        assertThat(Nbd.SIMPLE_REPLY_HEADER_SIZE).isEqualTo(4 + 4 + 8);
        // magic 4 + flags 2 + type 2 + cookie 8 + length 4
        assertThat(Nbd.STRUCTURED_REPLY_HEADER_SIZE).isEqualTo(4 + 2 + 2 + 8 + 4);
        // IHAVEOPT 8 + option 4 + length 4
        assertThat(Nbd.OPTION_HEADER_SIZE).isEqualTo(8 + 4 + 4);
        // magic 8 + option 4 + reply type 4 + length 4
        assertThat(Nbd.OPTION_REPLY_HEADER_SIZE).isEqualTo(8 + 4 + 4 + 4);
        assertThat(Nbd.EXPORT_NAME_REPLY_ZEROES).isEqualTo(124);
        assertThat(Nbd.MAX_STRING_LENGTH).isEqualTo(4096);
        assertThat(ServerGreeting.WIRE_SIZE).isEqualTo(8 + 8 + 2);
        assertThat(ClientFlags.WIRE_SIZE).isEqualTo(4);
        assertThat(ExportNameReply.WIRE_SIZE_NO_ZEROES).isEqualTo(8 + 2);
    }

    @Test
    void names() {
        assertThat(Nbd.optionName(Nbd.NBD_OPT_GO)).isEqualTo("NBD_OPT_GO");
        assertThat(Nbd.optionName(0xffffffff)).isEqualTo("option 4294967295");
        assertThat(Nbd.commandName(Nbd.NBD_CMD_WRITE_ZEROES)).isEqualTo("write_zeroes");
        assertThat(Nbd.commandName(99)).isEqualTo("unknown");
        assertThat(Nbd.replyTypeName(Nbd.NBD_REP_ERR_TOO_BIG)).isEqualTo("NBD_REP_ERR_TOO_BIG");
        assertThat(Nbd.replyTypeName(Nbd.NBD_REP_ERR_EXT_HEADER_REQD)).isEqualTo("NBD_REP_ERR_EXT_HEADER_REQD");
        assertThat(Nbd.optionName(Nbd.NBD_OPT_EXTENDED_HEADERS)).isEqualTo("NBD_OPT_EXTENDED_HEADERS");
    }
}
