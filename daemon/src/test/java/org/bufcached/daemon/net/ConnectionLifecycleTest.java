package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.KIB;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.Test;

/**
 * How transmission ends: protocol violations close only the offending connection,
 * NBD_CMD_DISC answers everything outstanding before closing, and a daemon stop
 * answers what is in flight, leaves the data on disk and refuses new connections.
 */
class ConnectionLifecycleTest extends DaemonTest {

    interface Violation {
        void commit(RawClient c) throws IOException;
    }

    /**
     * Opens a connection, has a write acknowledged on it, commits the violation and
     * asserts that the connection is closed with a log line, while the daemon keeps
     * serving a connection opened before and one opened after, and kept the data.
     */
    private void assertClosesOnlyTheOffender(String logged, Violation violation) throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        RawClient c = nbd.open(DISK);
        byte[] acknowledged = pattern(8 * KIB, 50);
        c.write(2 * MIB, acknowledged).assertOk();
        try (LogCapture log = new LogCapture(TransmissionHandler.class)) {
            violation.commit(c);
            c.assertClosed();
            log.assertLogged(logged);
        }
        witness.assertDaemonServes();
        assertThat(nbd.open(DISK).read(2 * MIB, 8 * KIB).assertOk().data()).isEqualTo(acknowledged);
    }

    @Test
    void wrongRequestMagicClosesTheConnection() throws Exception {
        assertClosesOnlyTheOffender("bad request magic", c -> c.write(
                RawClient.requestHeader(0x12560953, 0, CMD_READ, 1, 0, 4096)));
    }

    @Test
    void requestHeaderCutShortThenCloseLeavesOthersServed() throws Exception {
        assertClosesOnlyTheOffender("protocol error", c -> {
            c.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_READ, 1, 0, 4096).limit(20));
            c.close();
        });
    }

    @Test
    void writePayloadCutShortThenCloseLeavesOthersServed() throws Exception {
        assertClosesOnlyTheOffender("protocol error", c -> {
            c.write(RawClient.requestHeader(REQUEST_MAGIC, 0, CMD_WRITE, 1, 3 * MIB, 64 * KIB));
            c.write(pattern(1000, 51));
            c.close();
        });
    }

    @Test
    void discAnswersEveryRequestInFlightThenCloses() throws Exception {
        RawClient c = nbd.open(DISK);
        Map<Long, Integer> writes = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            writes.put(c.sendWrite(i * 64L * KIB, pattern(64 * KIB, 200 + i), 0), i);
        }
        c.disconnect();
        for (int i = 0; i < 20; i++) {
            Reply r = c.readReply().assertOk();
            assertThat(writes.remove(r.cookie())).isNotNull();
        }
        c.assertClosed();
        RawClient after = nbd.open(DISK);
        for (int i = 0; i < 20; i++) {
            assertThat(after.read(i * 64L * KIB, 64 * KIB).assertOk().data()).isEqualTo(pattern(64 * KIB, 200 + i));
        }
    }

    @Test
    void discDeliversLargeRepliesTheClientHasNotReadYet() throws Exception {
        // The replies exceed every socket buffer: closing must wait until they are written, not just queued.
        RawClient c = nbd.open(DISK);
        c.write(0, pattern(4 * MIB, 52)).assertOk();
        int n = 8;
        for (int i = 0; i < n; i++) {
            c.sendRead(0, 4 * MIB);
        }
        c.disconnect();
        allRepliesQueued();
        for (int i = 0; i < n; i++) {
            assertThat(c.readReply().assertOk().data()).isEqualTo(pattern(4 * MIB, 52));
        }
        c.assertClosed();
    }

    /**
     * Waits until the daemon has answered every request it received: the replies are
     * queued on the connection (32 MiB, more than any socket buffer) and the client
     * has read none of them yet.
     */
    private void allRepliesQueued() {
        await().atMost(RawClient.TIMEOUT).until(() -> nbd.daemon().connections().inFlight() == 0);
    }

    @Test
    void stopAnswersRequestsInFlightKeepsTheDataAndRefusesNewConnections() throws Exception {
        RawClient c = nbd.open(DISK);
        Map<Long, Integer> writes = new HashMap<>();
        int n = 64;
        for (int i = 0; i < n; i++) {
            writes.put(c.sendWrite(i * 128L * KIB, pattern(128 * KIB, 300 + i), 0), i);
        }
        Map<Long, Reply> replies = new HashMap<>();
        Reply first = c.readReply();
        replies.put(first.cookie(), first);
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(nbd::stop);
        while (replies.size() < n) {
            Reply r = c.readReply();
            assertThat(replies.put(r.cookie(), r)).as("cookie answered twice").isNull();
        }
        c.assertClosed();
        stopping.get(10, TimeUnit.SECONDS);
        int acknowledged = 0;
        for (Reply r : replies.values()) {
            assertThat(r.error()).as("reply during shutdown").isIn(0, ESHUTDOWN);
            if (r.error() == 0) {
                acknowledged++;
                int i = writes.get(r.cookie());
                assertThat(nbd.fileContent(DISK, i * 128L * KIB, 128 * KIB)).as("write %d on disk", i)
                        .isEqualTo(pattern(128 * KIB, 300 + i));
            }
        }
        assertThat(acknowledged).isPositive();
        assertThatThrownBy(nbd::connect).as("new connection after stop").isInstanceOf(IOException.class);
    }

    @Test
    void stopDeliversLargeRepliesTheClientHasNotReadYet() throws Exception {
        RawClient c = nbd.open(DISK);
        c.write(0, pattern(4 * MIB, 53)).assertOk();
        int n = 8;
        for (int i = 0; i < n; i++) {
            c.sendRead(0, 4 * MIB);
        }
        allRepliesQueued();
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(nbd::stop);
        await().atMost(RawClient.TIMEOUT).until(() -> nbd.daemon().connections().shuttingDown());
        // Every read was answered before the stop began, so every reply must arrive whole.
        for (int i = 0; i < n; i++) {
            assertThat(c.readReply().assertOk().data()).isEqualTo(pattern(4 * MIB, 53));
        }
        c.assertClosed();
        stopping.get(10, TimeUnit.SECONDS);
    }
}
