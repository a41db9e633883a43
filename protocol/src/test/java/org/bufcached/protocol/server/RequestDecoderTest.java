package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Hex;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.OversizedLengthException;
import org.junit.jupiter.api.Test;

class RequestDecoderTest extends RequestDecoderFixture {
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

    RequestDecoderTest() {
        super(false);
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
        done(r);
        h.assertNothingRead();
    }

    @Test
    void flushAndDiscHeaders() {
        h.write(feed(FLUSH));
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        assertThat(flush.cookie()).isEqualTo(3);
        assertThat(flush.length()).isZero();
        done(flush);

        h.write(feed(DISC));
        NbdRequest disc = h.read(NbdRequest.class);
        assertThat(disc.type()).isEqualTo(Nbd.NBD_CMD_DISC);
        assertThat(disc.cookie()).isEqualTo(4);
        done(disc);
    }

    @Test
    void unsignedFields() {
        h.write(feed(MAGIC, "ffff", "0000", "ffffffffffffffff", "ffffffffffffffff", "ffffffff"));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.flags()).isEqualTo(0xffff);
        assertThat(r.cookie()).isEqualTo(-1L);
        assertThat(Long.toUnsignedString(r.offset())).isEqualTo("18446744073709551615");
        assertThat(r.length()).isEqualTo(0xffffffffL);
        done(r);
    }

    @Test
    void writeHeaderAndPayload() {
        h.write(feed(Hex.concat(WRITE_HEADER, new String[] {WRITE_DATA})));
        NbdRequest r = h.read(NbdRequest.class);
        assertWrite(r);
        ByteBuf payload = r.payload();
        done(r);
        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void writePayloadIsADirectBufferOfItsOwnOfExactlyItsLength() {
        byte[] wire = Hex.bytes(Hex.concat(WRITE_HEADER, new String[] {WRITE_DATA}));
        ByteBuf in = track(Unpooled.wrappedBuffer(wire));
        h.write(in);
        NbdRequest r = h.read(NbdRequest.class);

        assertThat(in.refCnt()).as("the received buffer is not pinned by the request").isZero();
        wire[Nbd.REQUEST_HEADER_SIZE] = (byte) 0xee;   // first payload byte, in the input's memory
        assertThat(Hex.of(r.payload())).isEqualTo(WRITE_DATA);
        assertThat(r.payload().isDirect()).isTrue();
        assertThat(r.payload().capacity()).isEqualTo(8);
        assertThat(r.payload().hasMemoryAddress()).as("the store writes it by address").isTrue();
        done(r);
    }

    @Test
    void writePayloadReservesItsLengthUntilTheRequestIsAnswered() {
        h.write(feed(Hex.concat(WRITE_HEADER, new String[] {WRITE_DATA})));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(memory.reserved()).isEqualTo(8);
        done(r);
        assertThat(memory.reserved()).isZero();
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
        done(r);
    }

    @Test
    void requestsSplitByteByByte() {
        h.writeByteByByte(feed(Hex.concat(READ, WRITE_HEADER, new String[] {WRITE_DATA}, FLUSH)));
        NbdRequest read = h.read(NbdRequest.class);
        assertRead(read);
        done(read);
        NbdRequest write = h.read(NbdRequest.class);
        assertWrite(write);
        done(write);
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        done(flush);
        h.assertNothingRead();
    }

    @Test
    void pipelinedRequestsInOneBuffer() {
        h.write(feed(Hex.concat(READ, WRITE_HEADER, new String[] {WRITE_DATA}, FLUSH, DISC)));
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
            done(r);
        }
    }

    @Test
    void writeOfExactlyMaxPayloadIsAccepted() {
        h.write(feed(MAGIC, "0000", "0001", "0000000000000005", "0000000000000000", "00000400",
                Hex.repeat(0x5a, MAX_PAYLOAD)));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.payloadDiscarded()).isFalse();
        assertThat(r.payload().readableBytes()).isEqualTo(MAX_PAYLOAD);
        done(r);
    }

    @Test
    void emptyWrite() {
        h.write(feed(MAGIC, "0000", "0001", "0000000000000006", "0000000000000000", "00000000"));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(r.payloadDiscarded()).isFalse();
        assertThat(r.payload() == null || !r.payload().isReadable()).isTrue();
        done(r);
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
            assertThat(chunk.refCnt()).as("chunk consumed, not kept").isZero();
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
        done(w);

        h.write(feed(READ));
        NbdRequest r = h.read(NbdRequest.class);
        assertRead(r);
        done(r);
        assertThat(h.exceptions).isEmpty();
    }

    @Test
    void oversizedWriteFollowedByARequestInTheSameBuffer() {
        h.write(feed(Hex.concat(
                new String[] {MAGIC, "0000", "0001", "0000000000000008", "0000000000000000", "00000401"},
                new String[] {Hex.repeat(0, MAX_PAYLOAD + 1)},
                READ)));
        NbdRequest w = h.read(NbdRequest.class);
        assertThat(w.payloadDiscarded()).isTrue();
        assertThat(w.payload()).isNull();
        assertThat(w.length()).isEqualTo(MAX_PAYLOAD + 1);
        done(w);
        NbdRequest r = h.read(NbdRequest.class);
        assertRead(r);
        done(r);
    }

    @Test
    void writeAnnouncedBeyondTheHardLimitIsRefusedAtOnce() {
        // Skipping it would take the connection hostage; no payload byte needs to arrive.
        DecoderHarness big = new DecoderHarness(new RequestDecoder(32 << 20, memory));
        long hardLimit = LengthBounds.hardLimit(32 << 20);
        big.write(feed(MAGIC, "0000", "0001", "000000000000000a", "0000000000000000",
                String.format("%08x", hardLimit + 1), "0102"));
        big.assertNothingRead();
        assertThat(big.exceptions).singleElement().isInstanceOf(OversizedLengthException.class);
        assertThat(big.exceptions.get(0)).hasMessageContaining(Long.toString(hardLimit + 1))
                .hasMessageContaining(Long.toString(hardLimit));
        big.write(feed(READ));
        big.assertNothingRead();
        assertThat(big.exceptions).as("nothing decoded after the refusal").hasSize(1);
        big.channel.finishAndReleaseAll();
    }

    @Test
    void writeAnnouncedAtTheHardLimitIsStillSkipped() {
        DecoderHarness big = new DecoderHarness(new RequestDecoder(32 << 20, memory));
        long hardLimit = LengthBounds.hardLimit(32 << 20);
        assertThat(hardLimit).as("twice the maximum payload, and at least 2^25").isEqualTo(64L << 20);
        assertThat(LengthBounds.hardLimit(MAX_PAYLOAD)).isEqualTo(1L << 25);
        big.write(feed(MAGIC, "0000", "0001", "000000000000000b", "0000000000000000",
                String.format("%08x", hardLimit), "0102"));
        big.assertNothingRead();
        assertThat(big.exceptions).isEmpty();
        big.channel.finishAndReleaseAll();
    }

    @Test
    void aWriteThatFindsNoMemoryStopsReadingUntilMemoryIsReleased() {
        PayloadMemory small = new PayloadMemory(12, STALL_NANOS);
        DecoderHarness tight = new DecoderHarness(new RequestDecoder(MAX_PAYLOAD, small));
        assertThat(small.reserveOrWait(8, null)).as("another connection holds 8 of 12 bytes").isTrue();

        // A WRITE of 8 then a READ, in one buffer; then more bytes arrive before the socket stops.
        tight.write(feed(Hex.concat(WRITE_HEADER, new String[] {WRITE_DATA}, FLUSH)));
        tight.write(feed(READ));
        tight.assertNothingRead();
        assertThat(tight.channel.config().isAutoRead()).as("reading stopped").isFalse();
        assertThat(small.waiting()).isEqualTo(1);

        small.release(8);
        tight.channel.runPendingTasks();
        assertThat(tight.channel.config().isAutoRead()).as("reading resumed").isTrue();
        NbdRequest w = tight.read(NbdRequest.class);
        assertWrite(w);
        NbdRequest flush = tight.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        assertRead(tight.read(NbdRequest.class));
        assertThat(small.reserved()).isEqualTo(8);
        small.release(8);
        w.recycle();
        flush.recycle();
        tight.channel.finishAndReleaseAll();
        assertThat(small.reserved()).isZero();
    }

    @Test
    void aConnectionClosedWhileWaitingForMemoryGivesUpItsPlaceAndItsBytes() {
        PayloadMemory small = new PayloadMemory(12, STALL_NANOS);
        DecoderHarness tight = new DecoderHarness(new RequestDecoder(MAX_PAYLOAD, small));
        assertThat(small.reserveOrWait(8, null)).isTrue();
        ByteBuf waiting = feed(Hex.concat(WRITE_HEADER, new String[] {"01020304"}));
        tight.write(waiting);
        assertThat(small.waiting()).isEqualTo(1);

        tight.close();
        assertThat(small.waiting()).isZero();
        assertThat(waiting.refCnt()).as("kept bytes released").isZero();
        assertThat(tight.exceptions).as("waiting is not the client's fault").isEmpty();
        small.release(8);
        assertThat(small.reserved()).isZero();
    }

    @Test
    void aPayloadThatStallsWhileOthersWaitForMemoryEndsItsConnection() {
        PayloadMemory small = new PayloadMemory(12, STALL_NANOS);
        DecoderHarness stalling = new DecoderHarness(new RequestDecoder(MAX_PAYLOAD, small));
        DecoderHarness waiting = new DecoderHarness(new RequestDecoder(MAX_PAYLOAD, small));
        stalling.channel.freezeTime();
        stalling.write(feed(Hex.concat(WRITE_HEADER, new String[] {"01020304"})));   // 4 of 8 bytes, then silence
        waiting.write(feed(Hex.concat(WRITE_HEADER, new String[] {WRITE_DATA})));
        assertThat(small.waiting()).isEqualTo(1);

        stalling.channel.advanceTimeBy(STALL_NANOS - 1, TimeUnit.NANOSECONDS);
        stalling.channel.runScheduledPendingTasks();
        assertThat(stalling.exceptions).as("not yet").isEmpty();
        stalling.channel.advanceTimeBy(1, TimeUnit.SECONDS);
        stalling.channel.runScheduledPendingTasks();
        assertThat(stalling.exceptions).singleElement().isInstanceOf(NbdProtocolException.class)
                .satisfies(e -> assertThat(e).hasMessageContaining("stalled").hasMessageContaining("4 bytes received")
                        .hasMessageContaining("limits.payload-timeout"));

        stalling.close(); // what the transmission handler does on a protocol error
        waiting.channel.runPendingTasks();
        NbdRequest w = waiting.read(NbdRequest.class);
        assertWrite(w);
        small.release(8);
        w.recycle();
        waiting.channel.finishAndReleaseAll();
        assertThat(small.reserved()).isZero();
    }

    @Test
    void aSlowPayloadIsLeftAloneWhileNobodyWaitsForMemory() {
        h.channel.freezeTime();
        h.write(feed(Hex.concat(WRITE_HEADER, new String[] {"01020304"})));
        h.channel.advanceTimeBy(4 * STALL_NANOS, TimeUnit.NANOSECONDS);
        h.channel.runScheduledPendingTasks();
        assertThat(h.exceptions).isEmpty();
        h.write(feed("05060708"));
        NbdRequest w = h.read(NbdRequest.class);
        assertWrite(w);
        done(w);
    }

    @Test
    void aConnectionClosedInTheMiddleOfAPayloadReturnsItsMemory() {
        h.write(feed(Hex.concat(WRITE_HEADER, new String[] {"01020304"})));
        assertThat(memory.reserved()).isEqualTo(8);
        h.close();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
        assertThat(memory.reserved()).isZero();
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
    void extendedHeaderWithoutNegotiationIsAProtocolError() {
        h.write(feed("21e41c71", "0000", "0000", "0000000000000001", "0000000000000000", "00000000", "00001000"));
        h.assertNothingRead();
        assertThat(h.exceptions).singleElement().isInstanceOf(NbdProtocolException.class);
        assertThat(h.exceptions.get(0)).hasMessageContaining("extended request header without NBD_OPT_EXTENDED_HEADERS");
    }

    /** In compact headers bit 5 is just an unknown flag (the handler refuses it): no payload follows a READ. */
    @Test
    void payloadLenFlagInCompactHeadersAnnouncesNoPayload() {
        h.write(feed(Hex.concat(new String[] {MAGIC, "0020", "0000", "0000000000000001", "0000000000000000", "00000200"},
                FLUSH)));
        NbdRequest r = h.read(NbdRequest.class);
        assertThat(r.flags()).isEqualTo(Nbd.NBD_CMD_FLAG_PAYLOAD_LEN);
        assertThat(r.payload()).isNull();
        assertThat(r.payloadDiscarded()).isFalse();
        done(r);
        NbdRequest flush = h.read(NbdRequest.class);
        assertThat(flush.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        done(flush);
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
        h.write(feed(Hex.concat(WRITE_HEADER, new String[] {"01020304"})));
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
        done(r);
        h.close();
        assertThat(h.exceptions).isEmpty();
    }
}
