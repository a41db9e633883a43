package org.bufcached.protocol.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Hex;
import org.bufcached.protocol.NbdRequest;
import org.junit.jupiter.api.AfterEach;

/**
 * What the request decoder tests share, for compact and for extended headers: a
 * decoder on a {@link DecoderHarness}, the payload memory it reserves from, and
 * the check after each test that every buffer fed in was released and every
 * reserved byte given back.
 */
abstract class RequestDecoderFixture {
    static final int MAX_PAYLOAD = 1024;
    static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(5);

    final PayloadMemory memory = new PayloadMemory(64 * MAX_PAYLOAD, STALL_NANOS);
    final DecoderHarness h;
    private final List<ByteBuf> fed = new ArrayList<>();

    /** {@code extended}: the decoder reads extended headers, as after NBD_OPT_EXTENDED_HEADERS. */
    RequestDecoderFixture(boolean extended) {
        h = new DecoderHarness(new RequestDecoder(MAX_PAYLOAD, memory, extended, null));
    }

    @AfterEach
    void noLeaks() {
        Object msg;
        while ((msg = h.channel.readInbound()) != null) {
            done((NbdRequest) msg);
        }
        h.channel.finishAndReleaseAll();
        for (ByteBuf b : fed) {
            assertThat(b.refCnt()).as("input buffer released").isZero();
        }
        assertThat(memory.reserved()).as("payload memory still reserved").isZero();
    }

    /** What the transmission handler does once a request is answered: return its memory, recycle it. */
    void done(NbdRequest r) {
        memory.release(RequestDecoder.reservation(r));
        r.recycle();
    }

    /** The bytes of the hex groups, to feed to a decoder (checked to be released after the test). */
    ByteBuf feed(String... groups) {
        return track(Hex.buf(groups));
    }

    /** {@code b}, checked to be released after the test. */
    ByteBuf track(ByteBuf b) {
        fed.add(b);
        return b;
    }
}
