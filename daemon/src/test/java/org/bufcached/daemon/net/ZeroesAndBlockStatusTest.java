package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.DISK_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.KIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.bufcached.daemon.testing.Reply.Extent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TRIM, WRITE_ZEROES and BLOCK_STATUS base:allocation. The backing files live in a
 * temporary directory on a file system with 4 KiB blocks and hole punching
 * (ext4, xfs, tmpfs), so the extents are exact.
 */
class ZeroesAndBlockStatusTest extends DaemonTest {
    private static final int HOLE = STATE_HOLE | STATE_ZERO;
    private static final int DATA = 0;

    @ParameterizedTest(name = "flags {0}")
    @ValueSource(ints = {0, CMD_FLAG_NO_HOLE, CMD_FLAG_FAST_ZERO, CMD_FLAG_NO_HOLE | CMD_FLAG_FUA})
    void writeZeroesReadsBackAsZeroes(int flags) throws Exception {
        RawClient c = nbd.openStructured(DISK);
        c.write(0, pattern(64 * KIB, 40)).assertOk();
        c.request(CMD_WRITE_ZEROES, flags, 8 * KIB, 16 * KIB).assertOk();
        byte[] expected = pattern(64 * KIB, 40);
        java.util.Arrays.fill(expected, 8 * KIB, 24 * KIB, (byte) 0);
        assertThat(c.read(0, 64 * KIB).assertOk().data()).isEqualTo(expected);
    }

    @Test
    void unalignedWriteZeroesZeroesExactlyTheRange() throws Exception {
        RawClient c = nbd.open(DISK);
        c.write(0, pattern(16 * KIB, 41)).assertOk();
        c.request(CMD_WRITE_ZEROES, 0, 1000, 5000).assertOk();
        byte[] expected = pattern(16 * KIB, 41);
        java.util.Arrays.fill(expected, 1000, 6000, (byte) 0);
        assertThat(c.read(0, 16 * KIB).assertOk().data()).isEqualTo(expected);
    }

    @Test
    void trimReadsBackAsZeroes() throws Exception {
        RawClient c = nbd.open(DISK);
        c.write(0, pattern(64 * KIB, 42)).assertOk();
        c.request(CMD_TRIM, 0, 16 * KIB, 32 * KIB).assertOk();
        byte[] expected = pattern(64 * KIB, 42);
        java.util.Arrays.fill(expected, 16 * KIB, 48 * KIB, (byte) 0);
        assertThat(c.read(0, 64 * KIB).assertOk().data()).isEqualTo(expected);
    }

    /** Data at [64K, 128K) with a hole punched at [80K, 96K); everything else never written. */
    private RawClient writtenThenTrimmed() throws Exception {
        RawClient c = nbd.openWithAllocation(DISK);
        c.write(64 * KIB, pattern(64 * KIB, 43)).assertOk();
        c.request(CMD_TRIM, 0, 80 * KIB, 16 * KIB).assertOk();
        return c;
    }

    @Test
    void blockStatusDescribesDataAndHolesExactly() throws Exception {
        RawClient c = writtenThenTrimmed();
        Reply r = c.request(CMD_BLOCK_STATUS, 0, 0, 1 << 20).assertOk();
        assertThat(r.chunks()).singleElement().matches(ch -> ch.done());
        assertThat(r.extents()).containsExactly(
                new Extent(64 * KIB, HOLE),
                new Extent(16 * KIB, DATA),
                new Extent(16 * KIB, HOLE),
                new Extent(32 * KIB, DATA),
                new Extent((1 << 20) - 128 * KIB, HOLE));
    }

    @Test
    void blockStatusCarriesTheNegotiatedContextId() throws Exception {
        RawClient c = nbd.connect().handshake().structuredReplies();
        int id = c.selectAllocation(DISK);
        c.enter(DISK);
        assertThat(c.request(CMD_BLOCK_STATUS, 0, 0, 4096).contextId()).isEqualTo(id);
    }

    @Test
    void blockStatusFromAnOffsetInsideAnExtentStartsThere() throws Exception {
        RawClient c = writtenThenTrimmed();
        assertThat(c.request(CMD_BLOCK_STATUS, 0, 72 * KIB, 40 * KIB).extents()).startsWith(
                new Extent(8 * KIB, DATA), new Extent(16 * KIB, HOLE));
    }

    @Test
    void blockStatusWithReqOneIsOneDescriptorWithinTheRequest() throws Exception {
        RawClient c = writtenThenTrimmed();
        assertThat(c.request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 0, 4 * KIB).extents())
                .containsExactly(new Extent(4 * KIB, HOLE));
        assertThat(c.request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 0, 1 << 20).extents())
                .containsExactly(new Extent(64 * KIB, HOLE));
        assertThat(c.request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 68 * KIB, 8 * KIB).extents())
                .containsExactly(new Extent(8 * KIB, DATA));
    }

    @Test
    void blockStatusWithoutReqOneCoversAtLeastTheRequestOrStopsShortOnlyAtTheEnd() throws Exception {
        RawClient c = writtenThenTrimmed();
        long sum = 0;
        var extents = c.request(CMD_BLOCK_STATUS, 0, 60 * KIB, 40 * KIB).extents();
        for (int i = 0; i < extents.size() - 1; i++) {
            sum += extents.get(i).length();
        }
        assertThat(sum).as("the first N-1 extents stay below the requested length").isLessThan(40 * KIB);
    }

    @Test
    void blockStatusAtTheLastByteAndPastTheEnd() throws Exception {
        RawClient c = nbd.openWithAllocation(DISK);
        assertThat(c.request(CMD_BLOCK_STATUS, 0, DISK_SIZE - 4096, 4096).extents())
                .containsExactly(new Extent(4096, HOLE));
        c.request(CMD_BLOCK_STATUS, 0, DISK_SIZE - 4096, 8192).assertError(EINVAL);
        c.request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, 0, 4096).assertOk();
    }

    @Test
    void writeZeroesWithoutNoHoleMayPunchAHoleAndReadsZeroesEitherWay() throws Exception {
        RawClient c = nbd.openWithAllocation(DISK);
        c.write(0, pattern(64 * KIB, 44)).assertOk();
        c.request(CMD_WRITE_ZEROES, 0, 0, 16 * KIB).assertOk();
        c.request(CMD_WRITE_ZEROES, CMD_FLAG_NO_HOLE, 16 * KIB, 16 * KIB).assertOk();
        Extent first = c.request(CMD_BLOCK_STATUS, 0, 0, 64 * KIB).extents().get(0);
        assertThat(first.flags()).as("zeroed without NO_HOLE: punched").isEqualTo(HOLE);
        assertThat(first.length()).isGreaterThanOrEqualTo(16 * KIB);
        // Whether the NO_HOLE range reports as allocated depends on how the file system
        // reports unwritten extents; its content does not.
        byte[] expected = pattern(64 * KIB, 44);
        java.util.Arrays.fill(expected, 0, 32 * KIB, (byte) 0);
        assertThat(c.read(0, 64 * KIB).assertOk().data()).isEqualTo(expected);
    }
}
