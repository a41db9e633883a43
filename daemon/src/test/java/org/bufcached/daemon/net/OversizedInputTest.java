package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.Test;

/**
 * Lengths announced so large that waiting for the data would be a denial of
 * service end the connection at once, with a log line, before any of the data
 * arrives; moderately oversized data is still skipped and refused with an error.
 * The bound is twice the limit and at least 2^25: 32 MiB for option data (64 KiB
 * accepted), 64 MiB for the test exports' WRITE payloads (32 MiB accepted).
 */
class OversizedInputTest extends DaemonTest {
    private static final long OPTION_HARD_LIMIT = 1L << 25;
    private static final long WRITE_HARD_LIMIT = 64L * MIB;

    @Test
    void optionAnnouncingFourGibibytesIsClosedAtOnce() throws Exception {
        assertOptionClosedAtOnce(0xFFFF_FFFFL);
    }

    @Test
    void optionAnnouncingOneByteOverTwoToThe25IsClosedAtOnce() throws Exception {
        assertOptionClosedAtOnce(OPTION_HARD_LIMIT + 1);
    }

    private void assertOptionClosedAtOnce(long declared) throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            c.sendOptionHeader(OPT_INFO, declared);
            c.assertClosed(); // not one byte of the data was sent
            log.assertLogged("NBD_OPT_INFO data of " + declared + " bytes is over the hard limit of "
                    + OPTION_HARD_LIMIT + " bytes");
        }
        assertThat(nbd.daemon().connections().handshakeFailures(HandshakeFailure.OVERSIZED_OPTION)).isEqualTo(1);
        witness.assertDaemonServes();
    }

    @Test
    void writeAnnouncingTwoGibibytesIsClosedAtOnce() throws Exception {
        assertWriteClosedAtOnce(1L << 31);
    }

    @Test
    void writeAnnouncingOneByteOverTheHardLimitIsClosedAtOnce() throws Exception {
        assertWriteClosedAtOnce(WRITE_HARD_LIMIT + 1);
    }

    private void assertWriteClosedAtOnce(long declared) throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        RawClient c = nbd.open(DISK);
        c.write(MIB, pattern(4096, 40)).assertOk();
        try (LogCapture log = new LogCapture(TransmissionHandler.class)) {
            c.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_WRITE, c.newCookie(), 0, declared));
            c.assertClosed();
            log.assertLogged("WRITE payload of " + declared + " bytes is over the hard limit of " + WRITE_HARD_LIMIT
                    + " bytes");
        }
        witness.assertDaemonServes();
        assertThat(nbd.open(DISK).read(MIB, 4096).assertOk().data()).as("acknowledged before the refusal")
                .isEqualTo(pattern(4096, 40));
    }

    @Test
    void writeOfExactlyTheHardLimitIsSkippedAndRefusedWithEinval() throws Exception {
        RawClient c = nbd.open(DISK);
        byte[] payload = new byte[(int) WRITE_HARD_LIMIT];
        java.util.Arrays.fill(payload, (byte) 0x5A);
        c.write(0, payload).assertError(EINVAL);
        assertThat(c.read(0, 4096).assertOk().data()).as("nothing of the refused write landed")
                .isEqualTo(new byte[4096]);
        c.assertRoundTrip(0, pattern(4096, 41));
    }
}
