package org.bufcached.daemon.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.bufcached.daemon.store.BackingFile;
import org.junit.jupiter.api.Test;

/** base:allocation descriptors in both layouts, read back by hand as the spec lays them out. */
class DescriptorsTest {
    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final long GIB = 1L << 30;
    private static final int HOLE = 3; // NBD_STATE_HOLE | NBD_STATE_ZERO

    @Test
    void compactDescriptorsCutAnExtentOf4GibOrMoreAndStopThere() {
        long[] extents = {8 * GIB, BackingFile.HOLE, 4096, BackingFile.DATA};
        ByteBuf b = Descriptors.encode(ALLOC, extents, 16 * GIB, false);
        assertThat(b.readableBytes()).as("one 8-byte descriptor: the rest is asked for again").isEqualTo(8);
        assertThat(b.readUnsignedInt()).isEqualTo(0xFFFF_F000L);
        assertThat(b.readInt()).isEqualTo(HOLE);
        b.release();
    }

    @Test
    void wideDescriptorsCarryAnyExtentWhole() {
        long[] extents = {8 * GIB, BackingFile.HOLE, 4096, BackingFile.DATA};
        ByteBuf b = Descriptors.encode(ALLOC, extents, 16 * GIB, true);
        assertThat(b.readableBytes()).isEqualTo(2 * 16);
        assertThat(b.readLong()).isEqualTo(8 * GIB);
        assertThat(b.readLong()).as("64-bit status, upper half zero for base:").isEqualTo(HOLE);
        assertThat(b.readLong()).isEqualTo(4096);
        assertThat(b.readLong()).isZero();
        b.release();
    }

    @Test
    void noExtentIsAHoleToTheEndInEitherLayout() {
        ByteBuf compact = Descriptors.encode(ALLOC, new long[0], 6 * GIB, false);
        assertThat(compact.readUnsignedInt()).isEqualTo(0xFFFF_F000L);
        assertThat(compact.readInt()).isEqualTo(HOLE);
        compact.release();
        ByteBuf wide = Descriptors.encode(ALLOC, new long[0], 6 * GIB, true);
        assertThat(wide.readLong()).isEqualTo(6 * GIB);
        assertThat(wide.readLong()).isEqualTo(HOLE);
        assertThat(wide.isReadable()).isFalse();
        wide.release();
    }
}
