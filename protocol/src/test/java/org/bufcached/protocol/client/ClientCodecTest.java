package org.bufcached.protocol.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.bufcached.protocol.ClientFlags;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.OptionRequest;
import org.bufcached.protocol.ServerGreeting;
import org.bufcached.protocol.TransmissionMode;
import org.bufcached.protocol.server.PayloadMemory;
import org.bufcached.protocol.server.RequestDecoder;
import org.junit.jupiter.api.Test;

/** The client codecs against byte vectors written from the spec. */
class ClientCodecTest {
    private static ByteBuf hex(String s) {
        return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(s.replace(" ", "")));
    }

    private static String hex(ByteBuf b) {
        return ByteBufUtil.hexDump(b);
    }

    @Test
    void greetingThenOptionReplies() {
        EmbeddedChannel ch = new EmbeddedChannel(new HandshakeClientDecoder(1024));
        // NBDMAGIC, IHAVEOPT, flags FIXED_NEWSTYLE|NO_ZEROES
        ch.writeInbound(hex("4e42444d41474943 49484156454f5054 0003"));
        assertThat((ServerGreeting) ch.readInbound()).isEqualTo(new ServerGreeting(3));
        // NBD_REP_MAGIC, option GO (7), NBD_REP_INFO (3), length 12, NBD_INFO_EXPORT size 1 MiB flags 0x0001
        ch.writeInbound(hex("0003e889045565a9 00000007 00000003 0000000c 0000 0000000000100000 0001"));
        OptionReply r = ch.readInbound();
        assertThat(r.option()).isEqualTo(Nbd.NBD_OPT_GO);
        assertThat(r.type()).isEqualTo(Nbd.NBD_REP_INFO);
        assertThat(hex(r.content())).isEqualTo("000000000000001000000001");
        r.release();
        // split across two reads: an error reply with a message
        ch.writeInbound(hex("0003e889045565a9 00000007 80000006"));
        assertThat((Object) ch.readInbound()).isNull();
        ch.writeInbound(hex("00000002 6e6f"));
        OptionReply err = ch.readInbound();
        assertThat(err.isError()).isTrue();
        assertThat(err.type()).isEqualTo(Nbd.NBD_REP_ERR_UNKNOWN);
        err.release();
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void exportNameReplyWithAndWithoutZeroes() {
        HandshakeClientDecoder decoder = new HandshakeClientDecoder(1024);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(hex("4e42444d41474943 49484156454f5054 0001"));
        ch.readInbound();
        decoder.expectExportNameReply(true);
        ByteBuf reply = Unpooled.buffer().writeLong(4096).writeShort(0x0003).writeZero(124);
        ch.writeInbound(reply.retainedSlice(0, 100));
        assertThat((Object) ch.readInbound()).isNull();
        ch.writeInbound(reply.retainedSlice(100, 34));
        assertThat((ExportNameReply) ch.readInbound()).isEqualTo(new ExportNameReply(4096, 3, true));
        reply.release();

        HandshakeClientDecoder d2 = new HandshakeClientDecoder(1024);
        EmbeddedChannel ch2 = new EmbeddedChannel(d2);
        ch2.writeInbound(hex("4e42444d41474943 49484156454f5054 0003"));
        ch2.readInbound();
        d2.expectExportNameReply(false);
        ch2.writeInbound(hex("0000000000001000 0001"));
        assertThat((ExportNameReply) ch2.readInbound()).isEqualTo(new ExportNameReply(4096, 1, false));
    }

    @Test
    void badGreetingAndOversizedReplyAreProtocolErrors() {
        EmbeddedChannel ch = new EmbeddedChannel(new HandshakeClientDecoder(16));
        assertThatThrownBy(() -> ch.writeInbound(hex("0000420281861253 0000000000000000 0000")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("bad magic");
        EmbeddedChannel ch2 = new EmbeddedChannel(new HandshakeClientDecoder(16));
        ch2.writeInbound(hex("4e42444d41474943 49484156454f5054 0001"));
        ch2.readInbound();
        assertThatThrownBy(() -> ch2.writeInbound(hex("0003e889045565a9 00000003 00000002 00010000")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("exceeds the limit");
    }

    @Test
    void handshakeEncoderWritesFlagsAndOptions() {
        EmbeddedChannel ch = new EmbeddedChannel(HandshakeClientEncoder.INSTANCE);
        ch.writeOutbound(new ClientFlags(Nbd.NBD_FLAG_C_FIXED_NEWSTYLE | Nbd.NBD_FLAG_C_NO_ZEROES));
        ByteBuf flags = ch.readOutbound();
        assertThat(hex(flags)).isEqualTo("00000003");
        flags.release();
        ch.writeOutbound(new OptionRequest(Nbd.NBD_OPT_STRUCTURED_REPLY, Unpooled.EMPTY_BUFFER));
        ByteBuf opt = ch.readOutbound();
        assertThat(hex(opt)).isEqualTo("49484156454f5054" + "00000008" + "00000000");
        opt.release();
    }

    @Test
    void requestEncoderMatchesTheSpecAndTheServerDecoder() {
        EmbeddedChannel ch = new EmbeddedChannel(RequestEncoder.COMPACT);
        ch.writeOutbound(NbdRequest.newInstance(Nbd.NBD_CMD_FLAG_FUA, Nbd.NBD_CMD_WRITE, 0x0102030405060708L, 4096, 3,
                Unpooled.wrappedBuffer(new byte[] {9, 8, 7})));
        ByteBuf header = ch.readOutbound();
        ByteBuf payload = ch.readOutbound();
        assertThat(hex(header)).isEqualTo("25609513" + "0001" + "0001" + "0102030405060708" + "0000000000001000" + "00000003");
        assertThat(hex(payload)).isEqualTo("090807");

        EmbeddedChannel server = new EmbeddedChannel(
                new RequestDecoder(1 << 20, new PayloadMemory(1 << 20, 1_000_000_000L)));
        server.writeInbound(Unpooled.wrappedBuffer(header, payload));
        NbdRequest r = server.readInbound();
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(r.cookie()).isEqualTo(0x0102030405060708L);
        assertThat(r.offset()).isEqualTo(4096);
        assertThat(ByteBufUtil.getBytes(r.payload())).containsExactly(9, 8, 7);
        r.recycle();
    }

    private static EmbeddedChannel replies(boolean structured, long readCookie, long readLength) {
        return replies(structured ? TransmissionMode.STRUCTURED : TransmissionMode.SIMPLE, readCookie, readLength);
    }

    private static EmbeddedChannel replies(TransmissionMode mode, long readCookie, long readLength) {
        return new EmbeddedChannel(new ReplyDecoder(cookie -> cookie == readCookie ? readLength
                : cookie == 2 ? 0 : ReplyDecoder.PendingReads.UNKNOWN, mode, 1 << 20));
    }

    @Test
    void simpleReplyCarriesReadDataOnlyWithoutError() {
        EmbeddedChannel ch = replies(false, 1, 4);
        ch.writeInbound(hex("67446698 00000000 0000000000000001 deadbeef 67446698 00000005 0000000000000001"));
        SimpleReply ok = ch.readInbound();
        assertThat(ok.error()).isZero();
        assertThat(hex(ok.content())).isEqualTo("deadbeef");
        ok.release();
        SimpleReply failed = ch.readInbound();
        assertThat(failed.error()).isEqualTo(5);
        assertThat(failed.content().readableBytes()).isZero();
        ch.writeInbound(hex("67446698 00000000 0000000000000002"));
        SimpleReply flush = ch.readInbound();
        assertThat(flush.cookie()).isEqualTo(2);
    }

    @Test
    void unknownCookieWrongMagicAndUnnegotiatedChunksAreProtocolErrors() {
        assertThatThrownBy(() -> replies(false, 1, 4).writeInbound(hex("67446698 00000000 00000000000000ff")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("unknown cookie");
        assertThatThrownBy(() -> replies(false, 1, 4).writeInbound(hex("12345678 00000000 0000000000000001")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("bad reply magic");
        assertThatThrownBy(() -> replies(false, 1, 4).writeInbound(hex("668e33ef 0001 0000 0000000000000001 00000000")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("not negotiated");
    }

    @Test
    void truncatedReplyAtCloseIsAProtocolError() {
        EmbeddedChannel ch = replies(true, 1, 4);
        ch.writeInbound(hex("668e33ef 0001 0001 0000000000000001 0000000c 0000000000000000"));
        assertThatThrownBy(ch::finish).isInstanceOf(DecoderException.class).hasMessageContaining("middle of a reply");
    }

    @Test
    void structuredChunksAndTheirPayloads() {
        EmbeddedChannel ch = replies(true, 1, 8);
        // OFFSET_DATA at 4096 with 4 bytes, not done
        ch.writeInbound(hex("668e33ef 0000 0001 0000000000000001 0000000c 0000000000001000 cafebabe"));
        StructuredReplyChunk data = ch.readInbound();
        assertThat(data.done()).isFalse();
        assertThat(data.offset()).isEqualTo(4096);
        assertThat(hex(data.data())).isEqualTo("cafebabe");
        data.release();
        // OFFSET_HOLE at 4100, 4 bytes, done
        ch.writeInbound(hex("668e33ef 0001 0002 0000000000000001 0000000c 0000000000001004 00000004"));
        StructuredReplyChunk hole = ch.readInbound();
        assertThat(hole.done()).isTrue();
        assertThat(hole.holeSize()).isEqualTo(4);
        hole.release();
        // BLOCK_STATUS for context 1: (4096, HOLE|ZERO), (8192, 0)
        ch.writeInbound(hex("668e33ef 0001 0005 0000000000000002 00000014 00000001 00001000 00000003 00002000 00000000"));
        StructuredReplyChunk status = ch.readInbound();
        assertThat(status.contextId()).isEqualTo(1);
        assertThat(status.extentCount()).isEqualTo(2);
        assertThat(status.extentLength(0)).isEqualTo(4096);
        assertThat(status.extentStatus(0)).isEqualTo(Nbd.NBD_STATE_HOLE | Nbd.NBD_STATE_ZERO);
        assertThat(status.extentLength(1)).isEqualTo(8192);
        status.release();
        // ERROR_OFFSET: EIO, message "bad", offset 4096
        ch.writeInbound(hex("668e33ef 0001 8002 0000000000000001 00000011 00000005 0003 626164 0000000000001000"));
        StructuredReplyChunk error = ch.readInbound();
        assertThat(error.isError()).isTrue();
        assertThat(error.error()).isEqualTo(5);
        assertThat(error.errorMessage()).isEqualTo("bad");
        assertThat(error.offset()).isEqualTo(4096);
        error.release();
    }

    @Test
    void malformedChunkPayloadsAreDetected() {
        EmbeddedChannel ch = replies(true, 1, 8);
        ch.writeInbound(hex("668e33ef 0001 0002 0000000000000001 00000008 0000000000001004"));
        StructuredReplyChunk hole = ch.readInbound();
        assertThatThrownBy(hole::holeSize).isInstanceOf(NbdProtocolException.class).hasMessageContaining("not 12");
        hole.release();
        ch.writeInbound(hex("668e33ef 0001 8001 0000000000000001 00000006 00000005 0009"));
        StructuredReplyChunk error = ch.readInbound();
        assertThatThrownBy(error::errorMessage).isInstanceOf(NbdProtocolException.class).hasMessageContaining("exceeds");
        error.release();
    }

    // ------------------------------------------------------------- extended headers

    /** magic 0x21e41c71, flags with NBD_CMD_FLAG_PAYLOAD_LEN, type, cookie, offset, 64-bit length, payload. */
    @Test
    void extendedRequestEncoderMatchesTheSpecAndTheServerDecoder() {
        EmbeddedChannel ch = new EmbeddedChannel(RequestEncoder.EXTENDED);
        ch.writeOutbound(NbdRequest.newInstance(Nbd.NBD_CMD_FLAG_FUA, Nbd.NBD_CMD_WRITE, 0x0102030405060708L, 4096, 3,
                Unpooled.wrappedBuffer(new byte[] {9, 8, 7})));
        ByteBuf header = ch.readOutbound();
        ByteBuf payload = ch.readOutbound();
        assertThat(hex(header)).isEqualTo("21e41c71" + "0021" + "0001" + "0102030405060708" + "0000000000001000"
                + "0000000000000003");
        assertThat(hex(payload)).isEqualTo("090807");

        ch.writeOutbound(NbdRequest.newInstance(0, Nbd.NBD_CMD_TRIM, 9, 1L << 32, 6L << 30, null));
        ByteBuf trim = ch.readOutbound();
        assertThat(hex(trim)).as("no payload: no PAYLOAD_LEN, a 64-bit effect length")
                .isEqualTo("21e41c71" + "0000" + "0004" + "0000000000000009" + "0000000100000000" + "0000000180000000");

        EmbeddedChannel server = new EmbeddedChannel(
                new RequestDecoder(1 << 20, new PayloadMemory(1 << 20, 1_000_000_000L), true, null));
        server.writeInbound(Unpooled.wrappedBuffer(header, payload, trim));
        NbdRequest w = server.readInbound();
        assertThat(w.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(ByteBufUtil.getBytes(w.payload())).containsExactly(9, 8, 7);
        w.recycle();
        NbdRequest t = server.readInbound();
        assertThat(t.length()).isEqualTo(6L << 30);
        t.recycle();
        server.finishAndReleaseAll();
    }

    /** A WRITE whose bytes the caller sends after the header (a file region): the header alone, PAYLOAD_LEN set. */
    @Test
    void aWriteWithoutItsOwnPayloadIsAHeaderThatAnnouncesOne() {
        EmbeddedChannel ch = new EmbeddedChannel(RequestEncoder.EXTENDED);
        ch.writeOutbound(NbdRequest.newInstance(0, Nbd.NBD_CMD_WRITE, 7, 8192, 3, null));
        ByteBuf header = ch.readOutbound();
        assertThat((Object) ch.readOutbound()).as("nothing but the header").isNull();
        assertThat(hex(header)).isEqualTo("21e41c71" + "0020" + "0001" + "0000000000000007" + "0000000000002000"
                + "0000000000000003");

        EmbeddedChannel server = new EmbeddedChannel(
                new RequestDecoder(1 << 20, new PayloadMemory(1 << 20, 1_000_000_000L), true, null));
        server.writeInbound(Unpooled.wrappedBuffer(header, Unpooled.wrappedBuffer(new byte[] {4, 5, 6})));
        NbdRequest w = server.readInbound();
        assertThat(ByteBufUtil.getBytes(w.payload())).containsExactly(4, 5, 6);
        w.recycle();
        server.finishAndReleaseAll();

        EmbeddedChannel compact = new EmbeddedChannel(RequestEncoder.COMPACT);
        compact.writeOutbound(NbdRequest.newInstance(0, Nbd.NBD_CMD_WRITE, 7, 8192, 3, null));
        ByteBuf small = compact.readOutbound();
        assertThat(hex(small)).isEqualTo("25609513" + "0000" + "0001" + "0000000000000007" + "0000000000002000"
                + "00000003");
        small.release();
    }

    @Test
    void extendedChunksAndTheirPayloads() {
        EmbeddedChannel ch = replies(TransmissionMode.EXTENDED, 1, 8);
        // NBD_REPLY_TYPE_NONE, done, for a request at offset 4096
        ch.writeInbound(hex("6e8a278c 0001 0000 0000000000000002 0000000000001000 0000000000000000"));
        StructuredReplyChunk none = ch.readInbound();
        assertThat(none.extended()).isTrue();
        assertThat(none.done()).isTrue();
        assertThat(none.headerOffset()).isEqualTo(4096);
        assertThat(none.content().readableBytes()).isZero();
        none.release();
        // OFFSET_DATA: header offset 4096 (the request's), payload offset 4100, 4 bytes
        ch.writeInbound(hex("6e8a278c 0000 0001 0000000000000001 0000000000001000 000000000000000c"
                + " 0000000000001004 cafebabe"));
        StructuredReplyChunk data = ch.readInbound();
        assertThat(data.headerOffset()).isEqualTo(4096);
        assertThat(data.offset()).isEqualTo(4100);
        assertThat(hex(data.data())).isEqualTo("cafebabe");
        data.release();
        // BLOCK_STATUS_EXT, context 1, 2 descriptors: (6 GiB, HOLE|ZERO), (4096, 0)
        ch.writeInbound(hex("6e8a278c 0001 0006 0000000000000002 0000000000000000 0000000000000028"
                + " 00000001 00000002 0000000180000000 0000000000000003 0000000000001000 0000000000000000"));
        StructuredReplyChunk status = ch.readInbound();
        assertThat(status.type()).isEqualTo(Nbd.NBD_REPLY_TYPE_BLOCK_STATUS_EXT);
        assertThat(status.contextId()).isEqualTo(1);
        assertThat(status.extentCount()).isEqualTo(2);
        assertThat(status.extentLength(0)).isEqualTo(6L << 30);
        assertThat(status.extentStatus(0)).isEqualTo(3);
        assertThat(status.extentLength(1)).isEqualTo(4096);
        status.release();
        // ERROR with the message "no"
        ch.writeInbound(hex("6e8a278c 0001 8001 0000000000000001 0000000000001000 0000000000000008 00000016 0002 6e6f"));
        StructuredReplyChunk error = ch.readInbound();
        assertThat(error.error()).isEqualTo(22);
        assertThat(error.errorMessage()).isEqualTo("no");
        error.release();
    }

    @Test
    void extendedStatusChunksAreChecked() {
        EmbeddedChannel ch = replies(TransmissionMode.EXTENDED, 1, 8);
        // descriptor count 2 for one descriptor
        ch.writeInbound(hex("6e8a278c 0001 0006 0000000000000002 0000000000000000 0000000000000018"
                + " 00000001 00000002 0000000000001000 0000000000000000"));
        StructuredReplyChunk miscounted = ch.readInbound();
        assertThatThrownBy(miscounted::extentCount).isInstanceOf(NbdProtocolException.class)
                .hasMessageContaining("descriptor count 2");
        miscounted.release();
        // a descriptor length beyond 2^63
        ch.writeInbound(hex("6e8a278c 0001 0006 0000000000000002 0000000000000000 0000000000000018"
                + " 00000001 00000001 8000000000000000 0000000000000000"));
        StructuredReplyChunk huge = ch.readInbound();
        assertThatThrownBy(() -> huge.extentLength(0)).isInstanceOf(NbdProtocolException.class);
        huge.release();
    }

    @Test
    void replyStylesThatWereNotNegotiatedAreProtocolErrors() {
        assertThatThrownBy(() -> replies(TransmissionMode.EXTENDED, 1, 4)
                .writeInbound(hex("67446698 00000000 0000000000000002")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("compact reply");
        assertThatThrownBy(() -> replies(TransmissionMode.EXTENDED, 1, 4)
                .writeInbound(hex("668e33ef 0001 0000 0000000000000002 00000000")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("compact reply");
        assertThatThrownBy(() -> replies(TransmissionMode.STRUCTURED, 1, 4)
                .writeInbound(hex("6e8a278c 0001 0000 0000000000000002 0000000000000000 0000000000000000")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("extended headers were not negotiated");
        assertThatThrownBy(() -> replies(TransmissionMode.EXTENDED, 1, 4)
                .writeInbound(hex("6e8a278c 0001 0001 0000000000000001 0000000000000000 0000000100000000")))
                .isInstanceOf(NbdProtocolException.class).hasMessageContaining("exceeds the limit");
    }
}
