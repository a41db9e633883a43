package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection lines an operator follows a client by: a connection id on each,
 * the export on the opened line, unix peers by pid and uid, TCP peers without the
 * JDK's leading slash, and bytes, requests and errors on the closed line.
 */
class ConnectionLogTest {
    private static final int EPERM = 1;
    private static final Pattern CONN = Pattern.compile("conn=(\\d+)");

    @TempDir
    Path dir;
    private TestDaemon nbd;
    private LogCapture log;

    @BeforeEach
    void start() throws Exception {
        nbd = TestDaemon.start(dir);
        log = new LogCapture("org.bufcached.daemon.connections");
    }

    @AfterEach
    void stop() throws Exception {
        log.close();
        nbd.close();
    }

    @Test
    void unixPeerIsNamedByPidAndUidAndTheClosedLineCountsTraffic() throws Exception {
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        String peer = "peer=unix:pid=" + ProcessHandle.current().pid() + ",uid=" + uid;
        String id;
        try (RawClient c = nbd.open(TestDaemon.DISK)) {
            String opened = log.awaitLine("connection opened");
            assertThat(opened).contains(peer).contains("export=disk");
            id = conn(opened);
            c.write(0, new byte[4096]).assertOk();
            c.read(0, 512).assertOk();
        }
        try (RawClient ro = nbd.open(TestDaemon.RO)) {
            ro.write(0, new byte[512]).assertError(EPERM);
        }
        String closed = log.awaitLine("connection closed conn=" + id + " ");
        assertThat(closed).contains(peer).contains("export=disk").contains("requests=2").contains("errors=0")
                .containsPattern("bytes_in=\\d+").containsPattern("bytes_out=\\d+").containsPattern("duration_ms=\\d+");
        assertThat(log.awaitLine("export=ro duration_ms=")).contains("requests=1").contains("errors=1");
    }

    @Test
    void tcpPeerHasNoLeadingSlashAndIdsDifferPerConnection() throws Exception {
        try (RawClient a = nbd.connectTcp().handshake().enter(TestDaemon.DISK)) {
            String first = log.awaitLine("connection opened");
            assertThat(first).containsPattern("peer=127\\.0\\.0\\.1:\\d+ ").doesNotContain("/127.0.0.1");
            try (RawClient b = nbd.open(TestDaemon.DISK)) {
                log.assertLogged("peer=unix");
                String second = log.messages().stream().filter(m -> m.contains("peer=unix")).findFirst().orElseThrow();
                assertThat(conn(second)).isNotEqualTo(conn(first));
            }
        }
    }

    @Test
    void aFailedHandshakeIsLoggedWithItsConnectionId() throws Exception {
        try (LogCapture handshake = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect();
            c.readGreeting();
            c.sendClientFlags(0x80);
            c.assertClosed();
            String failure = handshake.awaitLine("handshake failure");
            assertThat(failure).containsPattern("conn=\\d+ peer=unix:pid=").contains("failure=unknown_client_flags");
            assertThat(log.awaitLine("connection closed conn=" + conn(failure) + " ")).contains("requests=0");
        }
    }

    private static String conn(String line) {
        Matcher m = CONN.matcher(line);
        assertThat(m.find()).as("connection id in: %s", line).isTrue();
        return m.group(1);
    }
}
