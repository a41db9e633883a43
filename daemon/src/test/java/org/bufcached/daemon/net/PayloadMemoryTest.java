package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.bufcached.daemon.testing.NbdWire.CMD_WRITE;
import static org.bufcached.daemon.testing.NbdWire.REQUEST_MAGIC;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.nio.file.Path;
import java.time.Duration;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The payload memory budget against a client that announces a WRITE and never
 * sends it: it holds the memory only until others need it and its payload has
 * stalled for {@code limits.payload-timeout}; then its connection is closed and
 * the writers that waited are served.
 */
class PayloadMemoryTest {
    private static final long BUDGET = 16 * MIB;

    @TempDir
    Path dir;
    private TestDaemon nbd;

    @BeforeEach
    void start() throws Exception {
        nbd = TestDaemon.builder(dir).payloadMemory(BUDGET).payloadTimeout(Duration.ofSeconds(1)).start();
    }

    @AfterEach
    void stop() throws Exception {
        nbd.close();
    }

    @Test
    void aClientHoldingPayloadMemoryWithoutSendingIsClosedOnceOthersWait() throws Exception {
        RawClient hostile = nbd.open(DISK);
        hostile.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_WRITE, hostile.newCookie(), 0, BUDGET));
        hostile.write(new byte[4096]); // then nothing more
        // The writer must come second: were its header decoded first, the hostile one would wait instead.
        await().atMost(RawClient.TIMEOUT).until(() -> nbd.daemon().payloadMemory().reserved() == BUDGET);
        RawClient writer = nbd.open(DISK);
        try (LogCapture log = new LogCapture(TransmissionHandler.class)) {
            long cookie = writer.sendWrite(2 * MIB, pattern(MIB, 60), 0);
            hostile.assertClosed();
            writer.expectReply(cookie).assertOk();
            log.assertLogged("stalled: 4096 bytes received");
        }
        assertThat(writer.read(2 * MIB, MIB).assertOk().data()).isEqualTo(pattern(MIB, 60));
        assertThat(nbd.daemon().payloadMemory().reserved()).as("all returned").isZero();
        assertThat(nbd.daemon().payloadMemory().waits()).as("the writer had to wait").isPositive();
    }

    @Test
    void aSlowClientIsLeftAloneWhileNobodyWaits() throws Exception {
        RawClient slow = nbd.open(DISK);
        byte[] data = pattern(MIB, 61);
        long cookie = slow.newCookie();
        slow.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_WRITE, cookie, 0, data.length));
        slow.write(java.util.Arrays.copyOf(data, 4096));
        slow.assertOpenFor(Duration.ofMillis(1500)); // past the payload timeout and its next check
        slow.write(java.util.Arrays.copyOfRange(data, 4096, data.length));
        slow.expectReply(cookie).assertOk();
        assertThat(slow.read(0, MIB).assertOk().data()).isEqualTo(data);
    }
}
