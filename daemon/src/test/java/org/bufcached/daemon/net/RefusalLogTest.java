package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.RawClient.infoRequest;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.nio.file.Path;
import java.util.List;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every option refusal an operator may have to act on is in the log, with the
 * peer and the export, once per connection however often the client retries.
 * The log line is written before the reply, so a client that has read the reply
 * can count the lines at once.
 */
class RefusalLogTest {
    private static final String PRIVATE = "private";

    @TempDir
    Path dir;
    private TestDaemon nbd;
    private LogCapture log;

    @BeforeEach
    void start() throws Exception {
        nbd = TestDaemon.builder(dir).export(PRIVATE, MIB, false, null).allow(PRIVATE, "10.0.0.0/8")
                .maxConnectionsPerExport(1).start();
        log = new LogCapture(HandshakeHandler.class);
    }

    @AfterEach
    void stop() throws Exception {
        log.close();
        nbd.close();
    }

    private List<String> refusals() {
        return log.messages().stream().filter(m -> m.startsWith("option refused ")).toList();
    }

    private static int lastType(List<OptionReply> replies) {
        return replies.get(replies.size() - 1).type();
    }

    @Test
    void allowListRefusalsAreLoggedOncePerConnectionWithPeerAndExport() throws Exception {
        RawClient c = nbd.connectTcp().handshake();
        assertThat(c.singleReply(OPT_INFO, infoRequest(PRIVATE)).type()).isEqualTo(REP_ERR_POLICY);
        assertThat(lastType(c.go(PRIVATE))).isEqualTo(REP_ERR_POLICY);
        assertThat(lastType(c.go(PRIVATE))).isEqualTo(REP_ERR_POLICY);
        assertThat(refusals()).singleElement().satisfies(line -> assertThat(line)
                .contains("peer=127.0.0.1:").contains("requested_export=private").contains("NBD_REP_ERR_POLICY")
                .contains("does not allow 127.0.0.1"));

        RawClient again = nbd.connectTcp().handshake();
        assertThat(lastType(again.go(PRIVATE))).isEqualTo(REP_ERR_POLICY);
        assertThat(refusals()).as("a new connection is logged again").hasSize(2);

        // Unix-socket clients are not filtered by allow lists.
        nbd.connect().handshake().enter(PRIVATE).assertRoundTrip(0, pattern(4096, 1));
        assertThat(refusals()).hasSize(2);
    }

    @Test
    void exportConnectionLimitRefusalIsLogged() throws Exception {
        RawClient first = nbd.open(DISK);
        RawClient second = nbd.connect().handshake();
        assertThat(lastType(second.go(DISK))).isEqualTo(REP_ERR_POLICY);
        assertThat(lastType(second.go(DISK))).isEqualTo(REP_ERR_POLICY);
        assertThat(refusals()).singleElement().satisfies(line -> assertThat(line)
                .contains("peer=unix").contains("requested_export=disk").contains("max-connections-per-export"));
        first.assertRoundTrip(0, pattern(4096, 2));
    }

    @Test
    void oversizedOptionDataIsLoggedOnce() throws Exception {
        RawClient c = nbd.connect().handshake();
        for (int i = 0; i < 3; i++) {
            assertThat(c.singleReply(99, new byte[64 * 1024 + 1]).type()).isEqualTo(REP_ERR_TOO_BIG);
        }
        assertThat(refusals()).singleElement().satisfies(line -> assertThat(line)
                .contains("NBD_REP_ERR_TOO_BIG").contains("65537 bytes"));
        c.enter(DISK).assertRoundTrip(0, pattern(4096, 3));
    }

    @Test
    void startTlsWithoutTlsConfiguredIsLoggedOnce() throws Exception {
        RawClient c = nbd.connect().handshake();
        assertThat(c.singleReply(OPT_STARTTLS, new byte[0]).type()).isEqualTo(REP_ERR_POLICY);
        assertThat(c.singleReply(OPT_STARTTLS, new byte[0]).type()).isEqualTo(REP_ERR_POLICY);
        assertThat(refusals()).singleElement().satisfies(line -> assertThat(line)
                .contains("option=NBD_OPT_STARTTLS").contains("TLS is not configured"));
        c.enter(DISK).assertRoundTrip(0, pattern(4096, 5));
    }

    @Test
    void fineOptionsAreNotLogged() throws Exception {
        RawClient c = nbd.connect().handshake();
        assertThat(c.singleReply(99, new byte[0]).type()).as("unknown option").isEqualTo(REP_ERR_UNSUP);
        c.enter(DISK).assertRoundTrip(0, pattern(4096, 4));
        assertThat(refusals()).isEmpty();
    }
}
