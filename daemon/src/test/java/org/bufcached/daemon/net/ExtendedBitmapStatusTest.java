package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.KIB;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.bufcached.daemon.testing.Chunk;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dirty bitmap and base:allocation answered together in NBD_REPLY_TYPE_BLOCK_STATUS_EXT chunks. */
class ExtendedBitmapStatusTest {
    @TempDir
    Path dir;

    @Test
    void bothContextsComeAsExtendedStatusChunks() throws Exception {
        try (TestDaemon nbd = TestDaemon.builder(dir).bitmap(DISK, "b").start()) {
            RawClient c = nbd.connect().handshake().extendedHeaders();
            List<OptionReply> set = c.option(OPT_SET_META_CONTEXT,
                    RawClient.metaContextRequest(DISK, BASE_ALLOCATION, "qemu:dirty-bitmap:b"));
            assertThat(set).extracting(OptionReply::type).containsExactly(REP_META_CONTEXT, REP_META_CONTEXT, REP_ACK);
            c.enter(DISK);
            c.write(64 * KIB, pattern(64 * KIB, 1)).assertOk();
            Reply r = c.request(CMD_BLOCK_STATUS, 0, 0, MIB).assertOk();
            assertThat(r.chunks()).hasSize(2).allSatisfy(ch -> {
                assertThat(ch.type()).isEqualTo(REPLY_TYPE_BLOCK_STATUS_EXT);
                assertThat(ch.offset()).isZero();
            });
            Map<Integer, long[]> byContext = r.chunks().stream().collect(Collectors.toMap(
                    ch -> ByteBuffer.wrap(ch.payload()).getInt(), ExtendedBitmapStatusTest::descriptors));
            assertThat(byContext.values()).anySatisfy(d -> assertThat(d).containsExactly(
                    64 * KIB, 0, 64 * KIB, 1, MIB - 128 * KIB, 0));                  // the bitmap: dirty = 1
            assertThat(byContext.values()).anySatisfy(d -> assertThat(d).containsExactly(
                    64 * KIB, 3, 64 * KIB, 0, MIB - 128 * KIB, 3));                  // base:allocation
        }
    }

    /** (length, status) pairs of a BLOCK_STATUS_EXT payload: context id, count, 64-bit pairs. */
    private static long[] descriptors(Chunk ch) {
        ByteBuffer b = ByteBuffer.wrap(ch.payload());
        b.getInt();
        int count = b.getInt();
        assertThat(b.remaining()).isEqualTo(16 * count);
        long[] d = new long[2 * count];
        for (int i = 0; i < d.length; i++) {
            d[i] = b.getLong();
        }
        return d;
    }
}
