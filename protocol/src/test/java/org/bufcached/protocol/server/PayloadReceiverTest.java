package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The rest of a large WRITE payload is read from the socket into the payload
 * buffer itself: the transport's next buffer is that memory, and what it brings
 * back completes the request without a copy.
 */
class PayloadReceiverTest {
    private static final int LENGTH = 64 * 1024;
    private static final int FIRST = 1000;

    private final PayloadMemory memory = new PayloadMemory(4 * LENGTH, TimeUnit.SECONDS.toNanos(5));
    private final byte[] data = new byte[LENGTH];
    private EmbeddedChannel channel;
    private PayloadReceiver receiver;
    private RequestDecoder decoder;
    private RecvByteBufAllocator.Handle handle;

    @BeforeEach
    void setUp() {
        new Random(7).nextBytes(data);
        channel = new EmbeddedChannel();
        PayloadReceiver.install(channel);
        receiver = PayloadReceiver.of(channel);
        decoder = new RequestDecoder(LENGTH, memory, false, receiver);
        channel.pipeline().addLast(decoder);
        handle = receiver.newHandle();
    }

    @AfterEach
    void released() {
        channel.finishAndReleaseAll();
        assertThat(memory.reserved()).as("payload memory still reserved").isZero();
    }

    @Test
    void theRestOfALargePayloadIsReadIntoThePayloadItself() {
        channel.writeInbound(header(LENGTH).writeBytes(data, 0, FIRST));
        ByteBuf into = handle.allocate(channel.alloc());
        assertThat(into.writableBytes()).isEqualTo(LENGTH - FIRST);
        long address = into.memoryAddress();
        into.writeBytes(data, FIRST, 5000); // a read brings part of it
        channel.writeInbound(into);
        assertThat((Object) channel.readInbound()).isNull();

        ByteBuf rest = handle.allocate(channel.alloc());
        assertThat(rest.writableBytes()).isEqualTo(LENGTH - FIRST - 5000);
        assertThat(rest.memoryAddress()).isEqualTo(address + 5000);
        rest.writeBytes(data, FIRST + 5000, LENGTH - FIRST - 5000);
        channel.writeInbound(rest);

        NbdRequest r = channel.readInbound();
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_WRITE);
        assertThat(r.payload().memoryAddress() + FIRST).as("the same memory, no copy").isEqualTo(address);
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(data);
        assertThat(r.payload().refCnt()).as("the reads' buffers released, only the request holds it").isEqualTo(1);
        done(r);

        ByteBuf next = handle.allocate(channel.alloc());
        assertThat(next.memoryAddress()).as("between requests, a buffer of the usual kind").isNotEqualTo(address);
        next.release();
    }

    @Test
    void aShortRestIsCopiedFromTheUsualBuffers() {
        int first = LENGTH - RequestDecoder.MIN_RECEIVE_INTO + 1;
        channel.writeInbound(header(LENGTH).writeBytes(data, 0, first));
        ByteBuf usual = handle.allocate(channel.alloc());
        usual.writeBytes(data, first, LENGTH - first);
        channel.writeInbound(usual);
        NbdRequest r = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(data);
        done(r);
    }

    @Test
    void aDecoderRemovedWhileAReadIsInFlightLeavesTheReadItsMemory() {
        channel.writeInbound(header(LENGTH).writeBytes(data, 0, FIRST));
        ByteBuf into = handle.allocate(channel.alloc());
        channel.pipeline().remove(decoder);
        assertThat(memory.reserved()).as("the payload's memory returned by the decoder").isZero();
        into.writeBytes(data, FIRST, 10); // the transport may still complete its read
        assertThat(into.refCnt()).isEqualTo(1);
        into.release();
        ByteBuf usual = handle.allocate(channel.alloc());
        assertThat(usual.capacity()).as("no decoder: the usual buffers").isPositive();
        usual.release();
    }

    @Test
    void aDecoderThatReplacesAnotherStaysAttached() {
        // Netty adds the new handler before it removes the old one.
        RequestDecoder next = new RequestDecoder(LENGTH, memory, false, receiver);
        channel.pipeline().replace(decoder, "next", next);
        channel.writeInbound(header(LENGTH).writeBytes(data, 0, FIRST));
        ByteBuf into = handle.allocate(channel.alloc());
        assertThat(into.writableBytes()).isEqualTo(LENGTH - FIRST);
        into.writeBytes(data, FIRST, LENGTH - FIRST);
        channel.writeInbound(into);
        NbdRequest r = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(data);
        done(r);
    }

    private void done(NbdRequest r) {
        memory.release(RequestDecoder.reservation(r));
        r.recycle();
    }

    private static ByteBuf header(int length) {
        return Unpooled.buffer().writeInt(Nbd.NBD_REQUEST_MAGIC).writeShort(0).writeShort(Nbd.NBD_CMD_WRITE)
                .writeLong(42).writeLong(0).writeInt(length);
    }

}
