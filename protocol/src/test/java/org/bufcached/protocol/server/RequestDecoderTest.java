package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.protocol.Hex;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RequestDecoderTest {
    private static final int MAX_PAYLOAD = 1024;

    private static final String MAGIC = "25609513";     // NBD_REQUEST_MAGIC

    /** READ of 1 MiB at 4 GiB, cookie 0x0123456789abcdef. */
    private static final String[] READ = {
        MAGIC,
        "0004",                 // command flags: NBD_CMD_FLAG_DF
        "0000",                 // type: NBD_CMD_READ
        "0123456789abcdef",     // cookie
        "0000000100000000",     // offset
        "00100000",             // length
    };

    /** WRITE with FUA of 8 bytes at 512, cookie 2. */
    private static final String[] WRITE_HEADER = {
        MAGIC,
        "0001",                 // command flags: NBD_CMD_FLAG_FUA
        "0001",                 // type: NBD_CMD_WRITE
        "0000000000000002",     // cookie
        "0000000000000200",     // offset
        "00000008",             // length
    };
    private static final String WRITE_DATA = "0102030405060708";

    private static final String[] FLUSH = {
        MAGIC, "0000", "0003", "0000000000000003", "0000000000000000", "00000000",
    };

    private static final String[] DISC = {
        MAGIC, "0000", "0002", "0000000000000004", "0000000000000000", "00000000",
    };

    private final DecoderHarness h = new DecoderHarness(new RequestDecoder(MAX_PAYLOAD));
    private final List<ByteBuf> fed = new ArrayList<>();

    @AfterEach
    void noLeaks() {
        Object msg;
        while ((msg = h.channel.readInbound()) != null) {
            ((NbdRequest) msg).recycle();
        }
        h.channel.finishAndReleaseAll();
        for (ByteBuf b : fed) {
            assertThat(b.refCnt()).as("input buffer released").isZero();
        }
    }

    private ByteBuf feed(String... groups) {
        return track(Hex.buf(groups));
    }

    private ByteBuf track(ByteBuf b) {
        fed.add(b);
        return b;
    }

    private static String[] concat(String[]... parts) {
        List<String> all = new ArrayList<>();
        for (String[] p : parts) {
            all.addAll(List.of(p));
        }
        return all.toArray(new String[0]);
    }

    private void assertRead(NbdRequest r) {
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_READ);
        assertThat(r.flags()).isEqualTo(Nbd.NBD_CMD_FLAG_DF);
        assertThat(r.cookie()).isEqualTo(0x0123456789abcdefL);
        assertThat(r.offset()).isEqualTo(1L << 32);
        assertThat(r.length()).isEqualTo(1 << 20);
        assertThat(r.payload()).isNull();
        assertThat(r.payloadDiscarded()).isFalse();
    }

    private void assertWrite(NbdRequest r) {
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(r.hasFlag(Nbd.NBD_CMD_FLAG_FUA)).isTrue();
        assertThat(r.cookie()).isEqualTo(2);
        assertThat(r.offset()).isEqualTo(512);
        assertThat(r.length()).isEqualTo(8);
        assertThat(r.payloadDiscarded()).isFalse();
        assertThat(Hex.of(r.payload())).isEqualTo(WRITE_DATA);
    }

    @Test
    void readHeader() {
        h.write(feed(READ));
        NbdRequest r = h.read(NbdRequest.class);
        assertRead(r);
        r.recycle();
        h.assertNothingRead();
    }

    @Test
    void flushAndDiscHeaders() {
        h.write(feed(FLUSH));
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        assertThat(flush.cookie()).isEqualTo(3);
        assertThat(flush.length()).isZero();
        flush.recycle();

        h.write(feed(DISC));
        NbdRequest disc = h.read(NbdRequest.class);
        assertThat(disc.type()).isEqualTo(Nbd.NBD_CMD_DISC);
        assertThat(disc.cookie()).isEqualTo(4);
        disc.recycle();
    }

    @Test
    void unsignedFields() {
        h.write(feed(MAGIC, "ffff", "0000", "ffffffffffffffff", "ffffffffffffffff", "ffffffff"));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.flags()).isEqualTo(0xffff);
        assertThat(r.cookie()).isEqualTo(-1L);
        assertThat(Long.toUnsignedString(r.offset())).isEqualTo("18446744073709551615");
        assertThat(r.length()).isEqualTo(0xffffffffL);
        r.recycle();
    }

    @Test
    void writeHeaderAndPayload() {
        h.write(feed(concat(WRITE_HEADER, new String[] {WRITE_DATA})));
        NbdRequest r = h.read(NbdRequest.class);
        assertWrite(r);
        ByteBuf payload = r.payload();
        r.recycle();
        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void writePayloadIsASliceOfTheInputNotACopy() {
        byte[] wire = Hex.bytes(concat(WRITE_HEADER, new String[] {WRITE_DATA}));
        h.write(track(Unpooled.wrappedBuffer(wire)));
        NbdRequest r = h.read(NbdRequest.class);

        wire[Nbd.REQUEST_HEADER_SIZE] = (byte) 0xee;   // first payload byte, in the input's memory

        assertThat(r.payload().getByte(r.payload().readerIndex())).isEqualTo((byte) 0xee);
        assertThat(r.payload().unwrap().array()).isSameAs(wire);
        r.recycle();
    }

    @Test
    void writePayloadOfADirectBufferSharesItsMemory() {
        ByteBuf in = track(Unpooled.directBuffer(64).writeBytes(Hex.bytes(concat(WRITE_HEADER, new String[] {WRITE_DATA}))));
        assumeTrue(in.hasMemoryAddress(), "no Unsafe memory addresses here");
        long inputAddress = in.memoryAddress();
        h.write(in);
        NbdRequest r = h.read(NbdRequest.class);

        assertThat(r.payload().hasMemoryAddress()).isTrue();
        assertThat(r.payload().memoryAddress()).isEqualTo(inputAddress + Nbd.REQUEST_HEADER_SIZE);
        assertWrite(r);
        r.recycle();
    }

    @Test
    void writePayloadArrivingInPieces() {
        h.write(feed(WRITE_HEADER));
        h.assertNothingRead();
        h.write(feed("010203"));
        h.assertNothingRead();
        h.write(feed("0405"));
        h.assertNothingRead();
        h.write(feed("060708"));
        NbdRequest r = h.read(NbdRequest.class);
        assertWrite(r);
        r.recycle();
        assertThat(h.buffered()).isZero();
    }

    @Test
    void requestsSplitByteByByte() {
        h.writeByteByByte(feed(concat(READ, WRITE_HEADER, new String[] {WRITE_DATA}, FLUSH)));
        NbdRequest read = h.read(NbdRequest.class);
        assertRead(read);
        read.recycle();
        NbdRequest write = h.read(NbdRequest.class);
        assertWrite(write);
        write.recycle();
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        flush.recycle();
        h.assertNothingRead();
    }

    @Test
    void pipelinedRequestsInOneBuffer() {
        h.write(feed(concat(READ, WRITE_HEADER, new String[] {WRITE_DATA}, FLUSH, DISC)));
        NbdRequest read = h.read(NbdRequest.class);
        assertRead(read);
        NbdRequest write = h.read(NbdRequest.class);
        assertWrite(write);
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        NbdRequest disc = h.read(NbdRequest.class);
        assertThat(disc.type()).isEqualTo(Nbd.NBD_CMD_DISC);
        h.assertNothingRead();
        for (NbdRequest r : List.of(read, write, flush, disc)) {
            r.recycle();
        }
    }

    @Test
    void writeOfExactlyMaxPayloadIsAccepted() {
        h.write(feed(MAGIC, "0000", "0001", "0000000000000005", "0000000000000000", "00000400",
                Hex.repeat(0x5a, MAX_PAYLOAD)));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.payloadDiscarded()).isFalse();
        assertThat(r.payload().readableBytes()).isEqualTo(MAX_PAYLOAD);
        r.recycle();
    }

    @Test
    void emptyWrite() {
        h.write(feed(MAGIC, "0000", "0001", "0000000000000006", "0000000000000000", "00000000"));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(r.payloadDiscarded()).isFalse();
        assertThat(r.payload() == null || !r.payload().isReadable()).isTrue();
        r.recycle();
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void oversizedWritePayloadIsSkippedAsItArrives() {
        int length = 16 * MAX_PAYLOAD;
        h.write(feed(MAGIC, "0000", "0001",
                "0000000000000007",     // cookie
                "0000000000001000",     // offset
                "00004000"));           // length: 16 KiB > maxPayload
        h.assertNothingRead();

        for (int sent = 0; sent < length; sent += 512) {
            ByteBuf chunk = feed(Hex.repeat(0x77, 512));
            h.write(chunk);
            assertThat(chunk.refCnt()).as("chunk not retained").isZero();
            assertThat(h.buffered()).as("nothing cumulated").isZero();
            if (sent + 512 < length) {
                h.assertNothingRead();
            }
        }

        NbdRequest w = h.read(NbdRequest.class);
        assertThat(w.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(w.cookie()).isEqualTo(7);
        assertThat(w.offset()).isEqualTo(0x1000);
        assertThat(w.length()).isEqualTo(length);
        assertThat(w.payloadDiscarded()).isTrue();
        assertThat(w.payload()).isNull();
        w.recycle();

        h.write(feed(READ));
        NbdRequest r = h.read(NbdRequest.class);
        assertRead(r);
        r.recycle();
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void oversizedWriteFollowedByARequestInTheSameBuffer() {
        h.write(feed(concat(
                new String[] {MAGIC, "0000", "0001", "0000000000000008", "0000000000000000", "00000401"},
                new String[] {Hex.repeat(0, MAX_PAYLOAD + 1)},
                READ)));
        NbdRequest w = h.read(NbdRequest.class);
        assertThat(w.payloadDiscarded()).isTrue();
        assertThat(w.payload()).isNull();
        assertThat(w.length()).isEqualTo(MAX_PAYLOAD + 1);
        w.recycle();
        NbdRequest r = h.read(NbdRequest.class);
        assertRead(r);
        r.recycle();
    }

    @Test
    void badRequestMagicIsAProtocolError() {
        h.write(feed("25609514", "0000", "0000", "0000000000000001", "0000000000000000", "00001000"));
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement()
                .isInstanceOf(NbdProtocolException.class)
                .isInstanceOf(DecoderException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("25609514");
    }

    @Test
    void truncatedHeaderAtCloseIsAProtocolError() {
        h.write(feed(MAGIC, "0000", "0000", "00000000"));
        h.close();
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void truncatedWritePayloadAtCloseIsAProtocolError() {
        h.write(feed(concat(WRITE_HEADER, new String[] {"01020304"})));
        h.close();
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void partlySkippedOversizedWriteAtCloseIsAProtocolError() {
        h.write(feed(MAGIC, "0000", "0001", "0000000000000009", "0000000000000000", "00100000",
                Hex.repeat(0, 100)));
        h.close();
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
    }

    @Test
    void closeBetweenRequestsIsClean() {
        h.write(feed(READ));
        NbdRequest r = h.read(NbdRequest.class);
        r.recycle();
        h.close();
        assertThat(h.exceptions).isEmpty();
    }
}
