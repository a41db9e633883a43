package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.protocol.Hex;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;
import org.bufcached.protocol.TransmissionMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReplyWriterTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private static final long COOKIE = 0x0123456789abcdefL;
    private static final String COOKIE_HEX = "0123456789abcdef";
    private static final String SIMPLE_MAGIC = "67446698";      // NBD_SIMPLE_REPLY_MAGIC
    private static final String CHUNK_MAGIC = "668e33ef";       // NBD_STRUCTURED_REPLY_MAGIC
    private static final String DONE = "0001";                  // flags: NBD_REPLY_FLAG_DONE
    private static final String NOT_DONE = "0000";
    private static final String EXT_MAGIC = "6e8a278c";         // NBD_EXTENDED_REPLY_MAGIC
    /** The request's offset, which every extended reply chunk repeats. */
    private static final long REQUEST_OFFSET = 0x0000000200000000L;
    private static final String REQUEST_OFFSET_HEX = "0000000200000000";

    private final List<ByteBuf> written = new ArrayList<>();

    @AfterEach
    void noLeaks() {
        for (ByteBuf b : written) {
            assertThat(b.release()).isTrue();
            assertThat(b.refCnt()).isZero();
        }
    }

    private ByteBuf track(ByteBuf b) {
        written.add(b);
        return b;
    }

    @Test
    void simpleReplySuccess() {
        Hex.assertBytes(track(ReplyWriter.simpleReply(ALLOC, COOKIE, 0)),
                SIMPLE_MAGIC,
                "00000000",         // error
                COOKIE_HEX);        // cookie
    }

    @Test
    void simpleReplyError() {
        ByteBuf b = track(ReplyWriter.simpleReply(ALLOC, COOKIE, NbdError.ENOSPC.code()));
        Hex.assertBytes(b, SIMPLE_MAGIC, "0000001c", COOKIE_HEX);
        assertThat(b.readableBytes()).isEqualTo(Nbd.SIMPLE_REPLY_HEADER_SIZE);
    }

    @Test
    void offsetDataHeader() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.offsetDataHeader(ALLOC, COOKIE, 0x0000000100000000L, true, 0x0000000100000000L, 4096)),
                CHUNK_MAGIC,
                DONE,                   // flags
                "0001",                 // type: NBD_REPLY_TYPE_OFFSET_DATA
                COOKIE_HEX,             // cookie
                "00001008",             // length of payload: 8 + 4096
                "0000000100000000");    // offset; the data follows from the caller
    }

    @Test
    void offsetDataHeaderNotDone() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.offsetDataHeader(ALLOC, COOKIE, 512, false, 512, 1)),
                CHUNK_MAGIC, NOT_DONE, "0001", COOKIE_HEX, "00000009", "0000000000000200");
    }

    @Test
    void offsetHole() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.offsetHole(ALLOC, COOKIE, 0x10000, false, 0x10000, 0x20000)),
                CHUNK_MAGIC,
                NOT_DONE,
                "0002",                 // type: NBD_REPLY_TYPE_OFFSET_HOLE
                COOKIE_HEX,
                "0000000c",             // length: exactly 12
                "0000000000010000",     // offset
                "00020000");            // hole size
    }

    @Test
    void none() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.none(ALLOC, COOKIE, 0)),
                CHUNK_MAGIC,
                DONE,                   // MUST always be set for NBD_REPLY_TYPE_NONE
                "0000",                 // type: NBD_REPLY_TYPE_NONE
                COOKIE_HEX,
                "00000000");            // length MUST be 0
    }

    @Test
    void blockStatusHeader() {
        ByteBuf header = track(ReplyWriter.STRUCTURED.blockStatusHeader(ALLOC, COOKIE, 0, true, 1, 2 * 8));
        Hex.assertBytes(header,
                CHUNK_MAGIC,
                DONE,
                "0005",                 // type: NBD_REPLY_TYPE_BLOCK_STATUS
                COOKIE_HEX,
                "00000014",             // length: 4 + 2 descriptors * 8
                "00000001");            // metadata context ID; descriptors follow from the caller
    }

    @Test
    void blockStatusHeaderAndDescriptorsFormAConsistentChunk() {
        ByteBuf descriptors = track(ALLOC.buffer()
                .writeInt(0x100000).writeInt(0)                                       // allocated
                .writeInt(0xffffffff).writeInt(Nbd.NBD_STATE_HOLE | Nbd.NBD_STATE_ZERO)); // hole, zero
        ByteBuf header = track(ReplyWriter.STRUCTURED.blockStatusHeader(ALLOC, COOKIE, 0, false, 7, descriptors.readableBytes()));
        Hex.assertBytes(header, CHUNK_MAGIC, NOT_DONE, "0005", COOKIE_HEX, "00000014", "00000007");
        Hex.assertBytes(descriptors,
                "00100000", "00000000",     // length of extent, status flags
                "ffffffff", "00000003");
        // The header's length covers the context id and everything the caller writes after it.
        long length = header.getUnsignedInt(16);
        assertThat(length).isEqualTo(header.readableBytes() - Nbd.STRUCTURED_REPLY_HEADER_SIZE
                + descriptors.readableBytes());
    }

    @Test
    void errorWithMessage() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.error(ALLOC, COOKIE, 0, NbdError.EIO.code(), "boom")),
                CHUNK_MAGIC,
                DONE,
                "8001",                 // type: NBD_REPLY_TYPE_ERROR (2^15 + 1)
                COOKIE_HEX,
                "0000000a",             // length: 6 + 4
                "00000005",             // error: NBD_EIO
                "0004",                 // message length
                Hex.utf8("boom"));      // message
    }

    @Test
    void errorWithoutMessage() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.error(ALLOC, COOKIE, 0, NbdError.EINVAL.code(), null)),
                CHUNK_MAGIC, DONE, "8001", COOKIE_HEX,
                "00000006",             // length: at least 6
                "00000016",             // error: NBD_EINVAL
                "0000");                // message length
    }

    @Test
    void errorOffset() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.errorOffset(ALLOC, COOKIE, 0, NbdError.EIO.code(), "bad", 0xfffffffffffffe00L)),
                CHUNK_MAGIC,
                DONE,
                "8002",                 // type: NBD_REPLY_TYPE_ERROR_OFFSET (2^15 + 2)
                COOKIE_HEX,
                "00000011",             // length: 14 + 3
                "00000005",             // error
                "0003",                 // message length
                Hex.utf8("bad"),        // message
                "fffffffffffffe00");    // offset
    }

    @Test
    void errorOffsetWithoutMessage() {
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.errorOffset(ALLOC, COOKIE, 0, NbdError.EIO.code(), "", 4096)),
                CHUNK_MAGIC, DONE, "8002", COOKIE_HEX, "0000000e", "00000005", "0000", "0000000000001000");
    }

    /** "message length MUST NOT exceed the 4096 bytes string length limit". */
    @Test
    void errorMessageIsCappedAt4096Bytes() {
        String longMessage = "x".repeat(5000);
        Hex.assertBytes(track(ReplyWriter.STRUCTURED.error(ALLOC, COOKIE, 0, 5, longMessage)),
                CHUNK_MAGIC, DONE, "8001", COOKIE_HEX,
                "00001006",                         // length: 6 + 4096
                "00000005",
                "1000",                             // message length: 4096
                Hex.utf8("x".repeat(4096)));

        ByteBuf withOffset = track(ReplyWriter.STRUCTURED.errorOffset(ALLOC, COOKIE, 0, 5, longMessage, 8));
        assertThat(withOffset.getUnsignedInt(16)).isEqualTo(14 + 4096);
        assertThat(withOffset.getUnsignedShort(24)).isEqualTo(4096);
        assertThat(withOffset.getLong(26 + 4096)).isEqualTo(8);
        assertThat(withOffset.readableBytes()).isEqualTo(Nbd.STRUCTURED_REPLY_HEADER_SIZE + 14 + 4096);
    }

    @Test
    void messageOfExactly4096BytesIsKept() {
        ByteBuf b = track(ReplyWriter.STRUCTURED.error(ALLOC, COOKIE, 0, 5, "y".repeat(4096)));
        assertThat(b.getUnsignedShort(24)).isEqualTo(4096);
        assertThat(b.readableBytes()).isEqualTo(Nbd.STRUCTURED_REPLY_HEADER_SIZE + 6 + 4096);
    }

    /** Strings are UTF-8: the cap must not cut a multi-byte character in half. */
    @Test
    void cappedMessageStaysValidUtf8() throws CharacterCodingException {
        String message = "a" + "é".repeat(2048);    // 1 + 4096 bytes; byte 4096 is inside the last 'é'
        ByteBuf b = track(ReplyWriter.STRUCTURED.error(ALLOC, COOKIE, 0, 5, message));
        int msgLength = b.getUnsignedShort(24);
        assertThat(msgLength).isLessThanOrEqualTo(Nbd.MAX_STRING_LENGTH);
        assertThat(b.getUnsignedInt(16)).isEqualTo(6 + msgLength);
        byte[] msg = new byte[msgLength];
        b.getBytes(26, msg);
        String decoded = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(msg)).toString();
        assertThat(decoded).isEqualTo("a" + "é".repeat(2047));
    }

    // ------------------------------------------------------------- extended headers
    // Layout: magic 32, reply flags 16, type 16, cookie 64, offset 64 (the request's), length 64.

    @Test
    void extendedNone() {
        ByteBuf b = track(ReplyWriter.EXTENDED.none(ALLOC, COOKIE, REQUEST_OFFSET));
        Hex.assertBytes(b,
                EXT_MAGIC,
                DONE,
                "0000",                 // type: NBD_REPLY_TYPE_NONE
                COOKIE_HEX,
                REQUEST_OFFSET_HEX,     // offset: MUST match the request
                "0000000000000000");    // length: 64 bits, 0
        assertThat(b.readableBytes()).isEqualTo(Nbd.EXTENDED_REPLY_HEADER_SIZE);
    }

    @Test
    void extendedOffsetData() {
        Hex.assertBytes(track(ReplyWriter.EXTENDED.offsetDataHeader(ALLOC, COOKIE, REQUEST_OFFSET, true,
                        REQUEST_OFFSET + 4096, 512)),
                EXT_MAGIC, DONE,
                "0001",                 // type: NBD_REPLY_TYPE_OFFSET_DATA
                COOKIE_HEX,
                REQUEST_OFFSET_HEX,     // header offset: the request's
                "0000000000000208",     // length: 8 + 512
                "0000000200001000");    // payload offset: where the data lies
    }

    @Test
    void extendedOffsetHole() {
        Hex.assertBytes(track(ReplyWriter.EXTENDED.offsetHole(ALLOC, COOKIE, REQUEST_OFFSET, false, REQUEST_OFFSET,
                        0x20000)),
                EXT_MAGIC, NOT_DONE, "0002", COOKIE_HEX, REQUEST_OFFSET_HEX,
                "000000000000000c",     // length: exactly 12, as in structured replies
                REQUEST_OFFSET_HEX,     // offset
                "00020000");            // hole size: still 32 bits
    }

    @Test
    void extendedBlockStatus() {
        ByteBuf header = track(ReplyWriter.EXTENDED.blockStatusHeader(ALLOC, COOKIE, REQUEST_OFFSET, true, 1, 2 * 16));
        Hex.assertBytes(header,
                EXT_MAGIC, DONE,
                "0006",                 // type: NBD_REPLY_TYPE_BLOCK_STATUS_EXT
                COOKIE_HEX, REQUEST_OFFSET_HEX,
                "0000000000000028",     // length: 8 + 2 descriptors * 16
                "00000001",             // metadata context ID
                "00000002");            // descriptor count: MUST match the descriptors that follow
        assertThat(ReplyWriter.EXTENDED.descriptorSize()).isEqualTo(16);
        assertThat(ReplyWriter.STRUCTURED.descriptorSize()).isEqualTo(8);
    }

    @Test
    void extendedBlockStatusRefusesPartialDescriptors() {
        assertThatThrownBy(() ->
                ReplyWriter.EXTENDED.blockStatusHeader(ALLOC, COOKIE, 0, true, 1, 8))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void extendedError() {
        Hex.assertBytes(track(ReplyWriter.EXTENDED.error(ALLOC, COOKIE, REQUEST_OFFSET, NbdError.EINVAL.code(), "no")),
                EXT_MAGIC, DONE,
                "8001",                 // type: NBD_REPLY_TYPE_ERROR
                COOKIE_HEX, REQUEST_OFFSET_HEX,
                "0000000000000008",     // length: 6 + 2
                "00000016",             // error: NBD_EINVAL
                "0002", Hex.utf8("no"));
    }

    @Test
    void extendedErrorOffset() {
        Hex.assertBytes(track(ReplyWriter.EXTENDED.errorOffset(ALLOC, COOKIE, REQUEST_OFFSET, NbdError.EIO.code(), "",
                        REQUEST_OFFSET + 512)),
                EXT_MAGIC, DONE, "8002", COOKIE_HEX, REQUEST_OFFSET_HEX,
                "000000000000000e", "00000005", "0000", "0000000200000200");
    }

    @Test
    void writerForEachMode() {
        assertThat(ReplyWriter.of(TransmissionMode.STRUCTURED)).isSameAs(ReplyWriter.STRUCTURED);
        assertThat(ReplyWriter.of(TransmissionMode.EXTENDED)).isSameAs(ReplyWriter.EXTENDED);
        assertThatThrownBy(() ->
                ReplyWriter.of(TransmissionMode.SIMPLE))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
