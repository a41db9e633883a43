package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.DISK_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.RO;
import static org.bufcached.daemon.testing.TestDaemon.RO_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.io.IOException;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every request the server must refuse: the exact NBD error, a structured ERROR
 * chunk with a message when structured replies are on, and the connection still
 * usable afterwards (the next request, on the same connection, succeeds).
 */
class RequestValidationTest extends DaemonTest {

    enum Replies { SIMPLE, STRUCTURED }

    private Replies mode = Replies.SIMPLE;

    private RawClient open(Replies mode, String export) throws IOException {
        this.mode = mode;
        return mode == Replies.SIMPLE ? nbd.open(export) : nbd.openStructured(export);
    }

    /**
     * Asserts the error (a structured one with a message once structured replies are
     * negotiated: the spec's SHOULD), then that a valid request on the same connection works.
     */
    private void assertRejected(RawClient c, Reply reply, int error) throws IOException {
        reply.assertError(error);
        assertThat(reply.structured()).as("structured error reply").isEqualTo(mode == Replies.STRUCTURED);
        c.assertRoundTrip(MIB, pattern(4096, (int) reply.cookie()));
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void readPastTheEndIsEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.read(DISK_SIZE - 4096, 8192), EINVAL);
        assertRejected(c, c.read(DISK_SIZE, 1), EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void readAtAnOffsetOf2To63OrMoreIsEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.read(Long.MIN_VALUE, 4096), EINVAL);
        assertRejected(c, c.read(-4096L, 4096), EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void writePastTheEndIsEnospcAndItsPayloadIsConsumed(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.write(DISK_SIZE - 4096, pattern(8192, 30)), ENOSPC);
        assertRejected(c, c.write(Long.MIN_VALUE, pattern(512, 31)), ENOSPC);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void writeZeroesPastTheEndIsEnospc(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.request(CMD_WRITE_ZEROES, 0, DISK_SIZE - 4096, 8192), ENOSPC);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void trimPastTheEndIsEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.request(CMD_TRIM, 0, DISK_SIZE - 4096, 8192), EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void readLargerThanTheMaximumPayloadIsEinval(Replies mode) throws Exception {
        // The spec keeps NBD_EOVERFLOW for READ with DF (and payload-less commands).
        RawClient c = open(mode, DISK);
        assertRejected(c, c.read(0, 32 * MIB + 1), EINVAL);
    }

    @Test
    void readWithDfLargerThanTheMaximumPayloadIsEoverflow() throws Exception {
        RawClient c = open(Replies.STRUCTURED, DISK);
        assertRejected(c, c.request(CMD_READ, CMD_FLAG_DF, 0, 32 * MIB + 1), EOVERFLOW);
    }

    @Test
    void commandsWithoutPayloadMayCoverMoreThanTheMaximumPayload() throws Exception {
        // Their length is an effect range; the spec says such a request SHOULD NOT be refused for its size alone.
        mode = Replies.STRUCTURED;
        RawClient c = nbd.openWithAllocation(DISK);
        long beyond = 48L * MIB;
        c.request(CMD_CACHE, 0, 0, beyond).assertOk();
        c.request(CMD_BLOCK_STATUS, 0, 0, beyond).assertOk();
        c.request(CMD_WRITE_ZEROES, 0, 0, beyond).assertOk();
        c.request(CMD_TRIM, 0, 0, beyond).assertOk();
        assertThat(c.read(0, 4096).assertOk().data()).isEqualTo(new byte[4096]);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void zeroLengthRequestsAreAnsweredAndKeepTheConnection(Replies mode) throws Exception {
        // The spec leaves their effect unspecified but says the server SHOULD NOT disconnect: reads,
        // writes and CACHE of nothing succeed, an empty range to punch, zero or describe is NBD_EINVAL.
        this.mode = mode;
        RawClient c = mode == Replies.SIMPLE ? nbd.open(DISK) : nbd.openWithAllocation(DISK);
        long at = 2L * MIB;
        c.assertRoundTrip(at, pattern(4096, 35));
        c.read(at, 0).assertOk();
        c.write(at, new byte[0]).assertOk();
        c.request(CMD_CACHE, 0, at, 0).assertOk();
        assertRejected(c, c.request(CMD_TRIM, 0, at, 0), EINVAL);
        assertRejected(c, c.request(CMD_WRITE_ZEROES, 0, at, 0), EINVAL);
        if (mode == Replies.STRUCTURED) {
            assertRejected(c, c.request(CMD_BLOCK_STATUS, 0, at, 0), EINVAL);
        }
        assertThat(c.read(at, 4096).assertOk().data()).as("nothing changed").isEqualTo(pattern(4096, 35));
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void writeLargerThanTheMaximumPayloadIsSkippedAndEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        byte[] payload = new byte[32 * MIB + 1];
        java.util.Arrays.fill(payload, (byte) 0x5A);
        assertRejected(c, c.write(0, payload), EINVAL);
        assertThat(c.read(0, 4096).assertOk().data()).as("nothing of the refused write landed")
                .isEqualTo(new byte[4096]);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void maximumPayloadWriteAndReadSucceed(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        c.assertRoundTrip(0, pattern(32 * MIB, 32));
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void writeTrimAndWriteZeroesOnAReadOnlyExportAreEperm(Replies mode) throws Exception {
        RawClient c = open(mode, RO);
        c.write(0, pattern(4096, 33)).assertError(EPERM);
        c.request(CMD_TRIM, 0, 0, 4096).assertError(EPERM);
        c.request(CMD_WRITE_ZEROES, 0, 0, 4096).assertError(EPERM);
        assertThat(c.read(0, (int) RO_SIZE).assertOk().data()).as("read-only data untouched")
                .isEqualTo(pattern(RO_SIZE, 0));
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void unknownCommandIsEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.request(99, 0, 0, 0), EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void unknownOrMisplacedCommandFlagsAreEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.request(CMD_READ, 1 << 7, 0, 4096), EINVAL);
        assertRejected(c, c.request(CMD_READ, CMD_FLAG_NO_HOLE, 0, 4096), EINVAL);
        assertRejected(c, c.request(CMD_READ, CMD_FLAG_REQ_ONE, 0, 4096), EINVAL);
        assertRejected(c, c.request(CMD_WRITE, CMD_FLAG_FAST_ZERO, 0, 0), EINVAL);
        assertRejected(c, c.request(CMD_FLUSH, CMD_FLAG_NO_HOLE, 0, 0), EINVAL);
    }

    @Test
    void dfWithoutStructuredRepliesIsEinval() throws Exception {
        RawClient c = nbd.open(DISK);
        assertRejected(c, c.request(CMD_READ, CMD_FLAG_DF, 0, 4096), EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void flushWithNonzeroOffsetOrLengthIsEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.request(CMD_FLUSH, 0, 4096, 0), EINVAL);
        assertRejected(c, c.request(CMD_FLUSH, 0, 0, 4096), EINVAL);
    }

    @Test
    void blockStatusWithoutAMetaContextIsAStructuredEinval() throws Exception {
        RawClient c = open(Replies.STRUCTURED, DISK);
        Reply r = c.request(CMD_BLOCK_STATUS, 0, 0, 4096);
        assertThat(r.structured()).isTrue();
        assertThat(r.chunks()).singleElement().matches(ch -> ch.type() == REPLY_TYPE_ERROR && ch.done());
        assertRejected(c, r, EINVAL);
    }

    @Test
    void blockStatusSelectedForAnotherExportIsEinval() throws Exception {
        // The context applies only to the export name used to enter transmission.
        mode = Replies.STRUCTURED;
        RawClient c = nbd.connect().handshake().structuredReplies();
        c.selectAllocation(RO);
        c.enter(DISK);
        assertRejected(c, c.request(CMD_BLOCK_STATUS, 0, 0, 4096), EINVAL);
    }

    @Test
    void aFailedSetMetaContextClearsTheEarlierSelection() throws Exception {
        // The spec: SET_META_CONTEXT replaces the selection "including when this command fails".
        mode = Replies.STRUCTURED;
        RawClient c = nbd.connect().handshake().structuredReplies();
        c.selectAllocation(DISK);
        byte[] malformed = java.nio.ByteBuffer.allocate(8).putInt(100).putInt(0).array();
        assertThat(c.option(OPT_SET_META_CONTEXT, malformed)).extracting(r -> r.type())
                .containsExactly(REP_ERR_INVALID);
        c.enter(DISK);
        assertRejected(c, c.request(CMD_BLOCK_STATUS, 0, 0, 4096), EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Replies.class)
    void cachePastTheEndIsEinval(Replies mode) throws Exception {
        RawClient c = open(mode, DISK);
        assertRejected(c, c.request(CMD_CACHE, 0, DISK_SIZE - 4096, 8192), EINVAL);
    }

    @Test
    void structuredErrorMessagesAreWithinTheStringLimit() throws Exception {
        RawClient c = nbd.openStructured(DISK);
        Reply[] errors = {
            c.read(DISK_SIZE, 4096), c.write(DISK_SIZE, pattern(16, 34)), c.request(99, 0, 0, 0),
            c.request(CMD_FLUSH, 0, 1, 0), c.read(0, 32 * MIB + 1), c.request(CMD_BLOCK_STATUS, 0, 0, 1),
        };
        for (Reply r : errors) {
            assertThat(r.error()).isNotZero();
            // message() checks length <= 4096 and <= chunk length - 6
            assertThat(r.errorChunk().message()).isNotBlank();
        }
    }
}
