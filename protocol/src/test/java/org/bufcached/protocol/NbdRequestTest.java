package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class NbdRequestTest {

    @Test
    void holdsTheHeaderFields() {
        NbdRequest r = NbdRequest.newInstance(Nbd.NBD_CMD_FLAG_FUA, Nbd.NBD_CMD_READ, 0x0102030405060708L,
                0xffffffffffffff00L, 0xffffffffL, null);
        assertThat(r.flags()).isEqualTo(Nbd.NBD_CMD_FLAG_FUA);
        assertThat(r.hasFlag(Nbd.NBD_CMD_FLAG_FUA)).isTrue();
        assertThat(r.hasFlag(Nbd.NBD_CMD_FLAG_DF)).isFalse();
        assertThat(r.type()).isEqualTo(Nbd.NBD_CMD_READ);
        assertThat(r.cookie()).isEqualTo(0x0102030405060708L);
        assertThat(Long.toUnsignedString(r.offset())).isEqualTo("18446744073709551360");
        assertThat(r.length()).isEqualTo(4294967295L);
        assertThat(r.payload()).isNull();
        assertThat(r.payloadDiscarded()).isFalse();
        assertThat(r.toString()).contains("read", "cookie=102030405060708", "offset=18446744073709551360");
        r.recycle();
    }

    @Test
    void recycleReleasesThePayload() {
        ByteBuf payload = Unpooled.buffer(8).writeLong(42);
        NbdRequest r = NbdRequest.newInstance(0, Nbd.NBD_CMD_WRITE, 1, 0, 8, payload);
        assertThat(r.payload()).isSameAs(payload);

        r.recycle();

        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void takePayloadTransfersOwnership() {
        ByteBuf payload = Unpooled.buffer(8).writeLong(42);
        NbdRequest r = NbdRequest.newInstance(0, Nbd.NBD_CMD_WRITE, 1, 0, 8, payload);

        assertThat(r.takePayload()).isSameAs(payload);
        assertThat(r.payload()).isNull();
        r.recycle();

        assertThat(payload.refCnt()).isEqualTo(1);
        payload.release();
    }

    @Test
    void markPayloadDiscarded() {
        NbdRequest r = NbdRequest.newInstance(0, Nbd.NBD_CMD_WRITE, 1, 0, 1 << 30, null).markPayloadDiscarded();
        assertThat(r.payloadDiscarded()).isTrue();
        assertThat(r.payload()).isNull();
        r.recycle();
    }

    /**
     * Instances are pooled; one taken from the pool must carry nothing from its previous use.
     * Netty 4.2 pools only on its own threads (event loops are), so the test runs on one.
     */
    @Test
    void pooledInstancesAreReusedAndReset() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new io.netty.util.concurrent.FastThreadLocalThread(() -> {
            try {
                reuseAndReset();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    private static void reuseAndReset() {
        NbdRequest reused = null;
        for (int i = 0; i < 64 && reused == null; i++) {
            NbdRequest first = NbdRequest.newInstance(7, Nbd.NBD_CMD_WRITE, 99, 4096, 1 << 30, null)
                    .markPayloadDiscarded();
            first.recycle();
            NbdRequest second = NbdRequest.newInstance(0, Nbd.NBD_CMD_FLUSH, 100, 0, 0, null);
            if (second == first) {
                reused = second;
            } else {
                second.recycle();
            }
        }
        assertThat(reused).as("an instance is taken back from the pool").isNotNull();
        assertThat(reused.payloadDiscarded()).isFalse();
        assertThat(reused.flags()).isZero();
        assertThat(reused.type()).isEqualTo(Nbd.NBD_CMD_FLUSH);
        assertThat(reused.cookie()).isEqualTo(100);
        assertThat(reused.length()).isZero();
        reused.recycle();
    }
}
