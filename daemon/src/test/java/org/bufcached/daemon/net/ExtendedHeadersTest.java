package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.DISK_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.KIB;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.RO;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.nio.ByteBuffer;
import java.util.List;
import org.bufcached.daemon.testing.Chunk;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.Test;

/**
 * NBD_OPT_EXTENDED_HEADERS on the wire, from the byte layouts of
 * nbd-proto-extended-headers.md: the option and its interplay with
 * NBD_OPT_STRUCTURED_REPLY, the 32-byte request and reply headers, payloads
 * flagged NBD_CMD_FLAG_PAYLOAD_LEN, and headers of the wrong style. RawClient
 * builds every message by hand and checks each reply chunk's magic and that its
 * offset repeats the request's.
 */
class ExtendedHeadersTest extends DaemonTest {

    // ------------------------------------------------------------------ negotiation

    @Test
    void theOptionIsAcknowledgedWithAnEmptyAck() throws Exception {
        RawClient c = nbd.connect().handshake();
        OptionReply r = c.singleReply(OPT_EXTENDED_HEADERS, new byte[0]);
        assertThat(r.option()).isEqualTo(OPT_EXTENDED_HEADERS);
        assertThat(r.type()).isEqualTo(REP_ACK);
        assertThat(r.data()).isEmpty();
    }

    @Test
    void theOptionWithDataIsInvalidAndTheHandshakeGoesOn() throws Exception {
        RawClient c = nbd.connect().handshake();
        assertThat(c.singleReply(OPT_EXTENDED_HEADERS, new byte[] {1}).type()).isEqualTo(REP_ERR_INVALID);
        // Nothing was negotiated: compact headers.
        c.enter(DISK).assertRoundTrip(0, pattern(512, 1));
    }

    @Test
    void aRepeatIsInvalidAndExtendedHeadersStay() throws Exception {
        RawClient c = nbd.connect().handshake().extendedHeaders();
        OptionReply again = c.singleReply(OPT_EXTENDED_HEADERS, new byte[0]);
        assertThat(again.type()).isEqualTo(REP_ERR_INVALID);
        assertThat(again.text()).contains("negotiated already");
        c.enter(DISK).assertRoundTrip(0, pattern(512, 2));
    }

    /** "This error is also used to indicate that the server is unable to downgrade to structured replies". */
    @Test
    void structuredRepliesAfterExtendedHeadersAreRefusedWithExtHeaderReqd() throws Exception {
        RawClient c = nbd.connect().handshake().extendedHeaders();
        OptionReply r = c.singleReply(OPT_STRUCTURED_REPLY, new byte[0]);
        assertThat(r.type()).isEqualTo(REP_ERR_EXT_HEADER_REQD);
        assertThat(r.text()).isNotBlank();
        c.enter(DISK).assertRoundTrip(0, pattern(512, 3));
    }

    /** "A client MAY request structured replies first": extended headers then take precedence. */
    @Test
    void extendedHeadersAfterStructuredRepliesTakePrecedence() throws Exception {
        RawClient c = nbd.connect().handshake().structuredReplies().extendedHeaders().enter(DISK);
        c.assertRoundTrip(0, pattern(512, 4));
        assertThat(c.request(CMD_FLUSH, 0, 0, 0).assertOk().chunks()).singleElement()
                .satisfies(ch -> assertThat(ch.offset()).as("the extended header's offset field").isZero());
    }

    /** "Once extended headers are successfully requested, a client MUST NOT use NBD_OPT_EXPORT_NAME." */
    @Test
    void exportNameAfterExtendedHeadersEndsTheConnection() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake().extendedHeaders();
            c.sendOption(OPT_EXPORT_NAME, DISK.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            c.assertClosed();
            log.assertLogged("NBD_OPT_EXPORT_NAME after NBD_OPT_EXTENDED_HEADERS");
        }
        witness.assertDaemonServes();
    }

    /** NBD_OPT_INFO/GO are unchanged: the same NBD_INFO_BLOCK_SIZE, and the flags of structured replies. */
    @Test
    void goAnswersAsWithStructuredReplies() throws Exception {
        List<OptionReply> structured = nbd.connect().handshake().structuredReplies()
                .go(DISK, INFO_BLOCK_SIZE, INFO_NAME);
        List<OptionReply> extended = nbd.connect().handshake().extendedHeaders().go(DISK, INFO_BLOCK_SIZE, INFO_NAME);
        assertThat(extended).extracting(OptionReply::type).containsExactlyElementsOf(
                structured.stream().map(OptionReply::type).toList());
        for (int i = 0; i < extended.size(); i++) {
            assertThat(extended.get(i).data()).as("reply %d", i).isEqualTo(structured.get(i).data());
        }
        ByteBuffer export = infoOf(extended, INFO_EXPORT);
        export.getLong();
        int flags = export.getShort() & 0xFFFF;
        assertThat(flags & FLAG_SEND_DF).as("DF: reply chunks are in use").isNotZero();
        assertThat(flags & (1 << 12)).as("NBD_FLAG_BLOCK_STATUS_PAYLOAD: no payload form here").isZero();
    }

    private static ByteBuffer infoOf(List<OptionReply> replies, int type) {
        for (OptionReply r : replies) {
            ByteBuffer b = r.buffer();
            if (r.type() == REP_INFO && b.getShort() == type) {
                return b;
            }
        }
        throw new AssertionError("no NBD_INFO type " + type + " in " + replies);
    }

    @Test
    void metaContextsNeedOnlyExtendedHeaders() throws Exception {
        RawClient c = nbd.connect().handshake().extendedHeaders();
        int id = c.selectAllocation(DISK);
        c.enter(DISK);
        c.write(0, pattern(64 * KIB, 5)).assertOk();
        Reply r = c.request(CMD_BLOCK_STATUS, 0, 0, MIB).assertOk();
        Chunk status = r.blockStatusChunk();
        assertThat(status.type()).isEqualTo(REPLY_TYPE_BLOCK_STATUS_EXT);
        assertThat(r.contextId()).isEqualTo(id);
        assertThat(r.extents()).containsExactly(new Reply.Extent(64 * KIB, 0),
                new Reply.Extent(MIB - 64 * KIB, STATE_HOLE | STATE_ZERO));
    }

    // ------------------------------------------------------------------ transmission

    /** Every reply is an extended chunk, never a simple reply, with the request's offset in its header. */
    @Test
    void everyReplyIsAnExtendedChunk() throws Exception {
        RawClient c = nbd.openExtended(DISK);
        Reply write = c.write(8 * KIB, pattern(4 * KIB, 6)).assertOk();
        assertThat(write.chunks()).singleElement().satisfies(ch -> {
            assertThat(ch.type()).isEqualTo(REPLY_TYPE_NONE);
            assertThat(ch.done()).isTrue();
            assertThat(ch.offset()).isEqualTo(8 * KIB);
            assertThat(ch.payload()).isEmpty();
        });
        Reply read = c.read(8 * KIB, 4 * KIB).assertOk();
        assertThat(read.data()).isEqualTo(pattern(4 * KIB, 6));
        assertThat(read.chunks()).last().satisfies(ch -> {
            assertThat(ch.type()).isEqualTo(REPLY_TYPE_OFFSET_DATA);
            assertThat(ch.offset()).isEqualTo(8 * KIB);
            assertThat(ByteBuffer.wrap(ch.payload()).getLong()).as("payload offset").isEqualTo(8 * KIB);
        });
        Reply error = c.request(CMD_READ, 0, DISK_SIZE, 4096).assertError(EINVAL);
        assertThat(error.errorChunk().offset()).isEqualTo(DISK_SIZE);
    }

    @Test
    void theExactBytesOfAWriteReply() throws Exception {
        RawClient c = nbd.openExtended(DISK);
        c.write(RawClient.extendedRequestHeader(CMD_FLAG_PAYLOAD_LEN | CMD_FLAG_FUA, CMD_WRITE, 0x0123456789abcdefL,
                0x10000, 4));
        c.write(new byte[] {1, 2, 3, 4});
        ByteBuffer reply = c.read(32);
        assertThat(reply.getInt()).as("magic").isEqualTo(EXTENDED_REPLY_MAGIC);
        assertThat(reply.getShort()).as("flags: DONE").isEqualTo((short) REPLY_FLAG_DONE);
        assertThat(reply.getShort()).as("type: NONE").isEqualTo((short) REPLY_TYPE_NONE);
        assertThat(reply.getLong()).as("cookie").isEqualTo(0x0123456789abcdefL);
        assertThat(reply.getLong()).as("offset").isEqualTo(0x10000);
        assertThat(reply.getLong()).as("length").isZero();
        assertThat(nbd.fileContent(DISK, 0x10000, 4)).isEqualTo(new byte[] {1, 2, 3, 4});
    }

    @Test
    void aWriteWithoutPayloadLenIsRefusedAndItsPayloadConsumed() throws Exception {
        RawClient c = nbd.openExtended(DISK);
        long cookie = c.send(CMD_WRITE, 0, 0, 512, pattern(512, 7));
        Reply r = c.expectReply(cookie).assertError(EINVAL);
        assertThat(r.errorMessage()).contains("NBD_CMD_FLAG_PAYLOAD_LEN");
        assertThat(nbd.fileContent(DISK, 0, 512)).as("nothing written").isEqualTo(new byte[512]);
        c.assertRoundTrip(0, pattern(512, 8));
        assertThat(nbd.daemon().payloadMemory().reserved()).as("payload memory returned").isZero();
    }

    /** "a server SHOULD gracefully consume length bytes of payload (even if it then replies with an NBD_EINVAL)". */
    @Test
    void aPayloadOnACommandWithoutOneIsConsumedAndRefused() throws Exception {
        RawClient c = nbd.openExtended(DISK);
        long cookie = c.send(CMD_READ, CMD_FLAG_PAYLOAD_LEN, 0, 100, new byte[100]);
        assertThat(c.expectReply(cookie).assertError(EINVAL).errorMessage()).contains("takes no payload");
        long bs = c.send(CMD_TRIM, CMD_FLAG_PAYLOAD_LEN, 0, 12, new byte[12]);
        c.expectReply(bs).assertError(EINVAL);
        c.assertRoundTrip(4096, pattern(512, 9));
    }

    @Test
    void aPayloadOverTheMaximumEndsTheConnection() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(TransmissionHandler.class)) {
            RawClient c = nbd.openExtended(DISK);
            c.write(RawClient.extendedRequestHeader(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 1, 0, 32 * MIB + 1));
            c.assertClosed();
            log.assertLogged("WRITE payload of 33554433 bytes is over the hard limit of 33554432 bytes");
        }
        witness.assertDaemonServes();
    }

    @Test
    void aPayloadLengthOf64BitsEndsTheConnection() throws Exception {
        RawClient c = nbd.openExtended(DISK);
        c.write(RawClient.extendedRequestHeader(CMD_FLAG_PAYLOAD_LEN, CMD_WRITE, 1, 0, 1L << 40));
        c.assertClosed();
        assertThat(nbd.daemon().payloadMemory().reserved()).isZero();
    }

    /** A READ is still bounded by the maximum payload, whatever its header can say. */
    @Test
    void aReadBeyondTheMaximumPayloadIsRefused() throws Exception {
        RawClient c = nbd.openExtended(DISK);
        c.request(CMD_READ, 0, 0, 64 * MIB).assertError(EINVAL);
        c.request(CMD_READ, CMD_FLAG_DF, 0, 64 * MIB).assertError(EOVERFLOW);
        c.assertRoundTrip(0, pattern(512, 10));
    }

    @Test
    void effectLengthsPastTheEndAreRefusedEvenAbove2To63() throws Exception {
        RawClient c = nbd.openExtendedWithAllocation(DISK);
        c.request(CMD_TRIM, 0, 0, DISK_SIZE + 4096).assertError(EINVAL);
        c.request(CMD_WRITE_ZEROES, 0, 0, -1L).assertError(ENOSPC);
        c.request(CMD_TRIM, 0, 4096, Long.MIN_VALUE).assertError(EINVAL);
        c.request(CMD_BLOCK_STATUS, 0, 0, 1L << 40).assertError(EINVAL);
        c.request(CMD_CACHE, 0, 0, -4096).assertError(EINVAL);
        c.assertRoundTrip(0, pattern(512, 11));
    }

    @Test
    void readOnlyExportsRefuseWritesAsBefore() throws Exception {
        RawClient c = nbd.openExtended(RO);
        c.write(0, pattern(512, 12)).assertError(EPERM);
        c.request(CMD_TRIM, 0, 0, 4096).assertError(EPERM);
    }

    // ------------------------------------------------------------------ the wrong header style

    @Test
    void aCompactHeaderAfterNegotiationIsAProtocolError() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(TransmissionHandler.class)) {
            RawClient c = nbd.openExtended(DISK);
            c.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_FLUSH, 1, 0, 0));
            c.assertClosed();
            log.assertLogged("compact request header after extended headers were negotiated");
        }
        witness.assertDaemonServes();
    }

    @Test
    void anExtendedHeaderWithoutNegotiationIsAProtocolError() throws Exception {
        try (LogCapture log = new LogCapture(TransmissionHandler.class)) {
            RawClient c = nbd.openStructured(DISK);
            c.write(RawClient.extendedRequestHeader(0, CMD_FLUSH, 1, 0, 0));
            c.assertClosed();
            log.assertLogged("extended request header without NBD_OPT_EXTENDED_HEADERS");
        }
    }

    /** Clients that do not ask keep the compact headers: a 16-byte simple reply to a FLUSH. */
    @Test
    void compactClientsKeepCompactHeaders() throws Exception {
        RawClient c = nbd.openStructured(DISK);
        c.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_FLUSH, 0x42, 0, 0));
        ByteBuffer reply = c.read(16);
        assertThat(reply.getInt()).isEqualTo(SIMPLE_REPLY_MAGIC);
        assertThat(reply.getInt()).isZero();
        assertThat(reply.getLong()).isEqualTo(0x42);
        c.assertRoundTrip(0, pattern(512, 13));
    }
}
