package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.EINVAL;
import static org.bufcached.daemon.testing.TestDaemon.MIB;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.bufcached.config.BlockSizes;
import org.bufcached.config.ConfigLoader;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests as large as the nbd project's own test client sends in its
 * integrityhuge test (up to ~48 MiB), against an export with the default block
 * sizes: the default maximum payload (64 MiB, nbdkit's) takes them.
 */
class LargeRequestTest {
    private static final String BIG = "big";
    private static final long SIZE = 160L * MIB;

    @TempDir
    Path dir;
    private TestDaemon nbd;
    private final Random random = new Random(48);

    @BeforeEach
    void start() throws Exception {
        BlockSizes defaults = ConfigLoader.defaults().exports().get(0).blockSizes();
        nbd = TestDaemon.builder(dir).export(BIG, SIZE, false, null, defaults).start();
    }

    @AfterEach
    void stop() throws Exception {
        nbd.close();
    }

    @Test
    void theDefaultMaximumPayloadIsNbdkits64MiB() {
        assertThat(ConfigLoader.defaults().exports().get(0).blockSizes().maxPayload()).isEqualTo(64 * MIB);
    }

    @Test
    void pipelinedWritesAndReadsOfAbout48MiBAreServedAndReadBack() throws Exception {
        RawClient c = nbd.open(BIG);
        byte[] model = new byte[(int) SIZE]; // what the export must hold
        // Three writes of 40-48 MiB on disjoint ranges, all in flight at once.
        Map<Long, long[]> writes = new LinkedHashMap<>();
        long offset = 0;
        for (int i = 0; i < 3; i++) {
            int length = (40 * MIB + random.nextInt(8 * MIB + 1)) & ~511;
            byte[] data = new byte[length];
            random.nextBytes(data);
            System.arraycopy(data, 0, model, (int) offset, length);
            writes.put(c.sendWrite(offset, data, 0), new long[] {offset, length});
            offset += length + 4096L * (1 + random.nextInt(256));
        }
        for (int i = writes.size(); i > 0; i--) {
            Reply r = c.readReply().assertOk();
            assertThat(writes.remove(r.cookie())).as("reply to a write in flight").isNotNull();
        }

        // Reads of up to 48 MiB across the written ranges and the holes between them, in flight at once.
        Map<Long, Long> reads = new LinkedHashMap<>();
        for (long at = 0; at < offset; at += 48L * MIB) {
            reads.put(c.sendRead(at, (int) Math.min(48L * MIB, SIZE - at)), at);
        }
        for (int i = reads.size(); i > 0; i--) {
            Reply r = c.readReply().assertOk();
            int at = reads.remove(r.cookie()).intValue();
            assertThat(Arrays.equals(r.data(), 0, r.data().length, model, at, at + r.data().length))
                    .as("48 MiB read at %d matches what was written", at).isTrue();
        }
    }

    @Test
    void aWriteOfTheWholeMaximumPayloadIsServedAndOneByteMoreIsRefused() throws Exception {
        RawClient c = nbd.open(BIG);
        byte[] data = new byte[64 * MIB];
        random.nextBytes(data);
        c.write(MIB, data).assertOk();
        assertThat(Arrays.equals(c.read(MIB, 64 * MIB).assertOk().data(), data)).isTrue();
        c.write(0, new byte[64 * MIB + 1]).assertError(EINVAL);
        assertThat(Arrays.equals(c.read(MIB, 64 * MIB).assertOk().data(), data)).as("untouched").isTrue();
    }
}
