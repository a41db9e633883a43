package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.bufcached.daemon.testing.Reply.Extent;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 64-bit effect lengths: one TRIM, WRITE_ZEROES or BLOCK_STATUS covering more than
 * 4 GiB of a 16 GiB sparse export, which no compact header can express. The file's
 * allocation is read from stat(1), not from the daemon.
 */
class ExtendedLengthsTest {
    private static final long GIB = 1L << 30;
    private static final String BIG = "big";
    private static final long BIG_SIZE = 16 * GIB;
    private static final int HOLE = STATE_HOLE | STATE_ZERO;

    @TempDir
    Path dir;
    private TestDaemon nbd;
    private RawClient c;

    @BeforeEach
    void start() throws IOException {
        nbd = TestDaemon.builder(dir).export(BIG, BIG_SIZE, false, null).start();
        c = nbd.openExtendedWithAllocation(BIG);
    }

    @AfterEach
    void stop() throws IOException {
        nbd.close();
    }

    /** 1 MiB of data at each offset, flushed so that the file system has allocated it. */
    private void writeAt(long... offsets) throws IOException {
        for (long offset : offsets) {
            c.write(offset, pattern(MIB, (int) (offset / MIB))).assertOk();
        }
        c.request(CMD_FLUSH, 0, 0, 0).assertOk();
    }

    private void assertData(long offset) throws IOException {
        assertThat(c.read(offset, MIB).assertOk().data()).as("data at %d", offset)
                .isEqualTo(pattern(MIB, (int) (offset / MIB)));
    }

    private void assertZeroes(long offset) throws IOException {
        assertThat(c.read(offset, MIB).assertOk().data()).as("zeroes at %d", offset).isEqualTo(new byte[MIB]);
    }

    /** Bytes the backing file occupies on disk, as stat(1) reports its blocks. */
    private long allocated() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", nbd.file(BIG).toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("stat: %s", out).isZero();
        String[] blocks = out.split(" ");
        return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    }

    @Test
    void oneTrimOf8GibPunchesTheWholeRange() throws Exception {
        writeAt(GIB, 3 * GIB, 7 * GIB, 10 * GIB - MIB, 12 * GIB);
        long before = allocated();
        assertThat(before).as("five MiB written").isGreaterThanOrEqualTo(5 * MIB);

        Reply r = c.request(CMD_TRIM, 0, 2 * GIB, 8 * GIB).assertOk();
        assertThat(r.chunks()).singleElement().satisfies(ch -> {
            assertThat(ch.type()).isEqualTo(REPLY_TYPE_NONE);
            assertThat(ch.offset()).isEqualTo(2 * GIB);
        });

        assertThat(before - allocated()).as("the three MiB inside [2 GiB, 10 GiB) are freed")
                .isGreaterThanOrEqualTo(3 * MIB);
        assertData(GIB);
        assertZeroes(3 * GIB);
        assertZeroes(7 * GIB);
        assertZeroes(10 * GIB - MIB);
        assertData(12 * GIB);
    }

    @Test
    void oneWriteZeroesOf10GibPunchesTheWholeRange() throws Exception {
        writeAt(5 * GIB, 6 * GIB, 9 * GIB, 15 * GIB + 15 * MIB);
        long before = allocated();

        c.request(CMD_WRITE_ZEROES, 0, 6 * GIB, 10 * GIB).assertOk();

        assertThat(before - allocated()).as("the three MiB inside [6 GiB, 16 GiB) are freed")
                .isGreaterThanOrEqualTo(3 * MIB);
        assertData(5 * GIB);
        assertZeroes(6 * GIB);
        assertZeroes(9 * GIB);
        assertZeroes(15 * GIB + 15 * MIB);
    }

    /** A hole longer than 4 GiB fits one 64-bit descriptor; a compact client would get it cut at 2^32 - 4096. */
    @Test
    void blockStatusDescribesTheWholeExportWithDescriptorsOver4Gib() throws Exception {
        writeAt(GIB, 12 * GIB);
        Reply r = c.request(CMD_BLOCK_STATUS, 0, 0, BIG_SIZE).assertOk();
        assertThat(r.blockStatusChunk().type()).isEqualTo(REPLY_TYPE_BLOCK_STATUS_EXT);
        assertThat(r.extents()).containsExactly(
                new Extent(GIB, HOLE),
                new Extent(MIB, 0),
                new Extent(11 * GIB - MIB, HOLE),
                new Extent(MIB, 0),
                new Extent(4 * GIB - MIB, HOLE));
    }

    /** With NBD_CMD_FLAG_REQ_ONE the one descriptor MUST NOT exceed the request's length, 64 bits or not. */
    @Test
    void blockStatusWithReqOneStopsAtTheRequestedLength() throws Exception {
        Reply r = c.request(CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, GIB, 6 * GIB).assertOk();
        assertThat(r.extents()).containsExactly(new Extent(6 * GIB, HOLE));
    }

    @Test
    void compactClientsStillGetDescriptorsUnder4Gib() throws Exception {
        RawClient compact = nbd.openWithAllocation(BIG);
        Reply r = compact.request(CMD_BLOCK_STATUS, 0, 0, 0xFFFF_F000L).assertOk();
        assertThat(r.blockStatusChunk().type()).isEqualTo(REPLY_TYPE_BLOCK_STATUS);
        assertThat(r.extents()).containsExactly(new Extent(0xFFFF_F000L, HOLE));
    }
}
