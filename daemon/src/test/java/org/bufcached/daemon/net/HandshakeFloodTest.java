package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.bufcached.daemon.testing.NbdWire.OPT_EXPORT_NAME;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.net.InetAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.daemon.testing.IdleSockets;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Floods of connections that never finish their handshake cannot lock anyone
 * out: they hold a few handshake slots of one listener (and of one address on
 * TCP) until the handshake timeout, and everything over that is closed at
 * accept with a log line naming the limit. Loopback only, a few seconds each.
 */
class HandshakeFloodTest {
    private static final int FLOOD = 1024;
    private static final int PER_LISTENER = 16;
    private static final int PER_ADDRESS = 4;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration SETTLE = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private TestDaemon nbd;
    private final LogCapture log = new LogCapture(HandshakeHandler.class);

    @AfterEach
    void stop() throws Exception {
        log.close();
        if (nbd != null) {
            nbd.close();
        }
    }

    private TestDaemon start() throws Exception {
        nbd = TestDaemon.builder(dir).maxHandshaking(PER_LISTENER, PER_ADDRESS).handshakeTimeout(HANDSHAKE_TIMEOUT)
                .start();
        return nbd;
    }

    private long failures(HandshakeFailure reason) {
        return nbd.daemon().connections().handshakeFailures(reason);
    }

    private List<String> lines(String text) {
        return log.messages().stream().filter(m -> m.contains(text)).toList();
    }

    @Test
    void aTcpFloodFromOneAddressLeavesEveryoneElseServed() throws Exception {
        start();
        TestDaemon.Witness witness = nbd.witness();
        try (IdleSockets flood = IdleSockets.open(nbd.tcpAddress(), FLOOD)) {
            await().atMost(SETTLE).until(flood::settled);
            assertThat(flood.greetedAndOpen()).as("flood connections sitting in the handshake").isEqualTo(PER_ADDRESS);
            assertThat(flood.refused()).as("flood connections closed at accept").isEqualTo(FLOOD - PER_ADDRESS);
            assertThat(failures(HandshakeFailure.TOO_MANY_HANDSHAKES_FROM_ADDRESS)).isEqualTo(FLOOD - PER_ADDRESS);

            // Established clients, new Unix-socket clients and TCP clients from elsewhere are served.
            witness.assertDaemonServes();
            nbd.connectTcpFrom(InetAddress.getByName("127.0.0.2")).handshake().enter(DISK)
                    .assertRoundTrip(0, pattern(4096, 1));
            // A new client from the flooding address is not, while the flood holds its slots.
            nbd.connectTcp().assertClosed();

            List<String> refusals = lines("limits.max-handshaking-per-address");
            assertThat(refusals).as("refusals are logged, naming the limit").isNotEmpty();
            assertThat(refusals.size()).as("but not one line each").isLessThan((FLOOD - PER_ADDRESS) / 10);

            // At the handshake timeout the flood's slots are freed and the address is served again.
            await().atMost(SETTLE).until(() -> failures(HandshakeFailure.TIMEOUT) == PER_ADDRESS);
            await().atMost(SETTLE).until(() -> flood.settled() && flood.closedByServer() == FLOOD);
            nbd.connectTcp().handshake().enter(DISK).assertRoundTrip(4096, pattern(4096, 2));
        }
    }

    @Test
    void aUnixSocketFloodFillsOnlyThatListenersHandshakeSlots() throws Exception {
        start();
        RawClient established = nbd.open(DISK);
        int flooded = 300;
        try (IdleSockets flood = IdleSockets.open(UnixDomainSocketAddress.of(nbd.socket()), flooded)) {
            await().atMost(SETTLE).until(flood::settled);
            assertThat(flood.greetedAndOpen()).isEqualTo(PER_LISTENER);
            assertThat(flood.refused()).isEqualTo(flooded - PER_LISTENER);
            assertThat(failures(HandshakeFailure.TOO_MANY_HANDSHAKES)).isEqualTo(flooded - PER_LISTENER);
            assertThat(lines("limits.max-handshaking)")).isNotEmpty();

            established.assertRoundTrip(0, pattern(4096, 3));
            try (RawClient tcp = nbd.connectTcp()) {
                tcp.handshake().enter(DISK).assertRoundTrip(4096, pattern(4096, 4));
            }
            nbd.connect().assertClosed();
        }
        // The flood hung up: its slots come back as the daemon sees the connections close.
        await().atMost(SETTLE).until(() -> nbd.daemon().connections().open() == 1);
        nbd.open(DISK).assertRoundTrip(8192, pattern(4096, 5));
    }

    @Test
    void connectionsInTransmissionLeaveTheirHandshakeSlot() throws Exception {
        start();
        List<RawClient> clients = new ArrayList<>();
        for (int i = 0; i < 3 * PER_ADDRESS; i++) {
            RawClient c = nbd.connectTcp().handshake();
            if (i % 2 == 0) {
                clients.add(c.enter(DISK));
            } else {
                c.sendOption(OPT_EXPORT_NAME, DISK.getBytes());
                c.read(10);
                clients.add(c);
            }
        }
        for (int i = 0; i < clients.size(); i++) {
            clients.get(i).assertRoundTrip(i * 4096L, pattern(4096, 10 + i));
        }
        assertThat(failures(HandshakeFailure.TOO_MANY_HANDSHAKES_FROM_ADDRESS)).isZero();
    }

    @Test
    void failedHandshakesLeaveTheirHandshakeSlot() throws Exception {
        start();
        for (int i = 0; i < 3 * PER_ADDRESS; i++) {
            RawClient c = nbd.connectTcp();
            c.readGreeting();
            c.sendClientFlags(1 << 7); // unknown flag: closed by the server
            c.assertClosed();
        }
        await().atMost(SETTLE).until(() -> nbd.daemon().connections().open() == 0);
        nbd.connectTcp().handshake().enter(DISK).assertRoundTrip(0, pattern(4096, 6));
        assertThat(failures(HandshakeFailure.TOO_MANY_HANDSHAKES_FROM_ADDRESS)).isZero();
    }
}
