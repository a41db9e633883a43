package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.RO;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.bufcached.config.TlsConfig;
import org.bufcached.config.TlsMode;
import org.bufcached.config.TlsProvider;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.bufcached.daemon.testing.TlsClients;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The specification's section "TLS support", option by option, with a raw client
 * whose TLS is the JDK's: FORCEDTLS (tls require, every export TLS-only) and
 * SELECTIVETLS (tls on, one export TLS-only), STARTTLS twice, negotiation that
 * STARTTLS must forget, client certificates, identities, and the bad inputs a
 * TLS handshake can meet. Each bad connection is dropped alone.
 */
class StartTlsTest {
    @TempDir
    Path dir;
    private TestCertificates certs;
    private TestDaemon nbd;

    @BeforeEach
    void certificates() {
        certs = TestCertificates.get();
    }

    @AfterEach
    void stop() throws Exception {
        if (nbd != null) {
            nbd.close();
        }
    }

    private TestDaemon start(TlsConfig tls, UnaryOperator<TestDaemon.Builder> more) throws Exception {
        nbd = more.apply(TestDaemon.builder(dir).tls(tls)).start();
        return nbd;
    }

    private TestDaemon start(TlsConfig tls) throws Exception {
        return start(tls, b -> b);
    }

    private TlsConfig x509(TlsMode mode, Path serverDir, boolean verifyPeer, TlsProvider provider) {
        return new TlsConfig(mode, Optional.of(serverDir), verifyPeer, Optional.empty(), provider);
    }

    private TlsConfig require() {
        return x509(TlsMode.REQUIRE, certs.server(), false, TlsProvider.AUTO);
    }

    /** A client in transmission on DISK over TLS, with data written: it must keep working. */
    private RawClient tlsWitness(byte[] data) throws Exception {
        RawClient c = nbd.connect().handshake().tls(TlsClients.x509(certs.client("none"))).enter(DISK);
        c.write(0, data).assertOk();
        return c;
    }

    @Test
    void underRequireEveryOptionBeforeStartTlsButAbortIsRefused() throws Exception {
        start(require());
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            for (int option : new int[] {OPT_LIST, OPT_STRUCTURED_REPLY, 42}) {
                assertThat(c.singleReply(option, new byte[0]).type()).as("option %d", option).isEqualTo(REP_ERR_TLS_REQD);
            }
            assertThat(c.singleReply(OPT_INFO, RawClient.infoRequest(DISK)).type()).isEqualTo(REP_ERR_TLS_REQD);
            assertThat(c.singleReply(OPT_GO, RawClient.infoRequest(DISK)).type()).isEqualTo(REP_ERR_TLS_REQD);
            assertThat(c.singleReply(OPT_LIST_META_CONTEXT, RawClient.metaContextRequest(DISK)).type())
                    .isEqualTo(REP_ERR_TLS_REQD);
            assertThat(log.awaitLine("TLS required conn=")).contains("peer=unix:");
            assertThat(c.singleReply(OPT_ABORT, new byte[0]).type()).isEqualTo(REP_ACK);
            c.assertClosed();
        }
    }

    @Test
    void underRequireExportNameBeforeStartTlsClosesTheConnectionAlone() throws Exception {
        start(require());
        byte[] data = pattern(4096, 7);
        RawClient witness = tlsWitness(data);
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            c.sendOption(OPT_EXPORT_NAME, DISK.getBytes(StandardCharsets.UTF_8));
            c.assertClosed();
            log.assertLogged("NBD_OPT_EXPORT_NAME without TLS");
        }
        assertThat(nbd.daemon().connections().handshakeFailures(HandshakeFailure.TLS_REQUIRED)).isEqualTo(1);
        assertThat(witness.read(0, data.length).assertOk().data()).isEqualTo(data);
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void afterStartTlsTheHandshakeAndTransmissionWork(TlsProvider provider) throws Exception {
        start(x509(TlsMode.REQUIRE, certs.server(), false, provider));
        RawClient c = nbd.connect().handshake().tls(TlsClients.x509(certs.client("none")));
        assertThat(c.tlsSession().getProtocol()).isEqualTo("TLSv1.3");
        assertThat(listed(c)).containsExactly(DISK, RO);
        c.structuredReplies().enter(DISK);
        byte[] big = pattern(3 << 20, 11);
        c.assertRoundTrip(4096, big);
        Connections connections = nbd.daemon().connections();
        assertThat(connections.tlsHandshakes(TlsHandshakeResult.SUCCESS)).isEqualTo(1);
        assertThat(connections.inTlsPhase(TlsPhase.ENCRYPTED)).isEqualTo(1);
        c.disconnect();
        c.assertClosed();
        awaitPhaseCounts(connections, 0, 0, 0);
    }

    @Test
    void startTlsWhenTlsIsUpIsInvalidAndTheConnectionGoesOn() throws Exception {
        start(require());
        RawClient c = nbd.connect().handshake();
        assertThat(c.singleReply(OPT_STARTTLS, new byte[] {0}).type()).as("STARTTLS with data")
                .isEqualTo(REP_ERR_INVALID);
        c.tls(TlsClients.x509(certs.client("none")));
        OptionReply again = c.singleReply(OPT_STARTTLS, new byte[0]);
        assertThat(again.type()).isEqualTo(REP_ERR_INVALID);
        assertThat(again.text()).isEqualTo("TLS is already in use");
        c.enter(DISK).assertRoundTrip(0, pattern(512, 3));
    }

    @Test
    void negotiationBeforeStartTlsIsForgotten() throws Exception {
        start(x509(TlsMode.ON, certs.server(), false, TlsProvider.AUTO));
        RawClient c = nbd.connect().handshake().structuredReplies();
        c.selectAllocation(DISK);
        c.tls(TlsClients.x509(certs.client("none"))).enter(DISK);
        // Simple replies again (RawClient checks the magic), and no metadata context for BLOCK_STATUS.
        c.assertRoundTrip(0, pattern(512, 4));
        c.request(CMD_BLOCK_STATUS, 0, 0, 4096).assertError(EINVAL);
    }

    /** "If the client requests NBD_OPT_STARTTLS after this option, it MUST renegotiate extended headers." */
    @Test
    void extendedHeadersBeforeStartTlsAreForgottenAndCanBeNegotiatedAgain() throws Exception {
        start(x509(TlsMode.ON, certs.server(), false, TlsProvider.AUTO));
        RawClient compact = nbd.connect().handshake().extendedHeaders();
        compact.tls(TlsClients.x509(certs.client("none"))).enter(DISK);
        // Compact headers again: RawClient sends 28-byte requests and accepts only simple replies.
        compact.assertRoundTrip(0, pattern(512, 6));

        RawClient extended = nbd.connect().handshake().extendedHeaders();
        extended.tls(TlsClients.x509(certs.client("none"))).extendedHeaders().enter(DISK);
        extended.assertRoundTrip(4096, pattern(512, 7));
        assertThat(extended.request(CMD_FLUSH, 0, 0, 0).assertOk().chunks()).singleElement()
                .satisfies(c -> assertThat(c.offset()).as("an extended chunk").isZero());
    }

    @Test
    void selectiveTlsHidesTlsOnlyExportsFromPlaintextClients() throws Exception {
        start(x509(TlsMode.ON, certs.server(), false, TlsProvider.AUTO), b -> b.exportTls(RO, TlsMode.REQUIRE));
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient plain = nbd.connect().handshake();
            assertThat(listed(plain)).containsExactly(DISK);
            assertThat(plain.singleReply(OPT_INFO, RawClient.infoRequest(RO)).type()).isEqualTo(REP_ERR_TLS_REQD);
            assertThat(plain.singleReply(OPT_GO, RawClient.infoRequest(RO)).type()).isEqualTo(REP_ERR_TLS_REQD);
            log.assertLogged("reason=export 'ro' requires TLS");
            plain.structuredReplies();
            assertThat(plain.singleReply(OPT_SET_META_CONTEXT, RawClient.metaContextRequest(RO, "base:allocation"))
                    .type()).isEqualTo(REP_ERR_UNKNOWN);
            plain.enter(DISK).assertRoundTrip(0, pattern(512, 5));

            RawClient secure = nbd.connect().handshake().tls(TlsClients.x509(certs.client("none")));
            assertThat(listed(secure)).containsExactly(DISK, RO);
            secure.enter(RO);
            assertThat(secure.read(0, 4096).assertOk().data()).isEqualTo(nbd.fileContent(RO, 0, 4096));

            RawClient exportName = nbd.connect().handshake();
            exportName.sendOption(OPT_EXPORT_NAME, RO.getBytes(StandardCharsets.UTF_8));
            exportName.assertClosed();
            log.assertLogged("NBD_OPT_EXPORT_NAME without TLS for export 'ro'");
        }
    }

    @Test
    void identitiesComeFromClientCertificates() throws Exception {
        start(x509(TlsMode.REQUIRE, certs.server(), true, TlsProvider.AUTO),
                b -> b.exportTls(DISK, null, TestCertificates.ALICE_DN).exportTls(RO, null, "bob"));
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient alice = nbd.connect().handshake().tls(TlsClients.x509(certs.client("alice")));
            assertThat(listed(alice)).containsExactly(DISK);
            OptionReply refused = alice.singleReply(OPT_GO, RawClient.infoRequest(RO));
            assertThat(refused.type()).isEqualTo(REP_ERR_POLICY);
            assertThat(log.awaitLine("identity refused conn=")).contains("peer=unix:");
            log.assertLogged("export=ro identity=" + TestCertificates.ALICE_DN);
            alice.enter(DISK).assertRoundTrip(0, pattern(512, 6));

            RawClient bob = nbd.connect().handshake().tls(TlsClients.x509(certs.client("bob")));
            assertThat(listed(bob)).containsExactly(RO);
            bob.sendOption(OPT_EXPORT_NAME, DISK.getBytes(StandardCharsets.UTF_8));
            bob.assertClosed();
            log.assertLogged("whose identities do not include CN=bob,O=bufcached tests");
        }
        assertThat(nbd.daemon().connections().handshakeFailures(HandshakeFailure.FORBIDDEN_IDENTITY)).isEqualTo(1);
    }

    @Test
    void aClientCertificateFromAnotherAuthorityIsRefused() throws Exception {
        assertRefusedClient(certs.server(), "rogue");
    }

    @Test
    void aRevokedClientCertificateIsRefused() throws Exception {
        assertRefusedClient(certs.serverWithCrl(), "revoked");
        // The list revokes one certificate only.
        nbd.connect().handshake().tls(TlsClients.x509(certs.client("alice"))).enter(DISK)
                .assertRoundTrip(0, pattern(512, 8));
    }

    @Test
    void verifyPeerRefusesAClientWithoutCertificate() throws Exception {
        assertRefusedClient(certs.server(), "none");
    }

    private void assertRefusedClient(Path serverDir, String client) throws Exception {
        start(x509(TlsMode.REQUIRE, serverDir, true, TlsProvider.AUTO));
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            // Under TLS 1.3 the client learns of the refusal only when it next reads.
            assertThatThrownBy(() -> c.tls(TlsClients.x509(certs.client(client))).singleReply(OPT_LIST, new byte[0]))
                    .isInstanceOfAny(IOException.class, AssertionError.class);
            c.assertClosed();
            log.assertLogged("reason=TLS handshake failed:");
        }
        assertThat(nbd.daemon().connections().tlsHandshakes(TlsHandshakeResult.FAILURE)).isEqualTo(1);
    }

    @Test
    void garbageInsteadOfAClientHelloClosesTheConnectionAlone() throws Exception {
        start(require());
        byte[] data = pattern(4096, 9);
        RawClient witness = tlsWitness(data);
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            assertThat(c.singleReply(OPT_STARTTLS, new byte[0]).type()).isEqualTo(REP_ACK);
            c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.assertClosed();
            assertThat(log.awaitLine("handshake failure conn=")).contains("peer=unix:");
            log.assertLogged("reason=TLS handshake failed:");
        }
        Connections connections = nbd.daemon().connections();
        assertThat(connections.tlsHandshakes(TlsHandshakeResult.FAILURE)).isEqualTo(1);
        assertThat(connections.handshakeFailures(HandshakeFailure.TLS_HANDSHAKE)).isEqualTo(1);
        assertThat(witness.read(0, data.length).assertOk().data()).isEqualTo(data);
    }

    @Test
    void aPlaintextOptionAfterStartTlsClosesTheConnection() throws Exception {
        start(require());
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            assertThat(c.singleReply(OPT_STARTTLS, new byte[0]).type()).isEqualTo(REP_ACK);
            c.sendOption(OPT_GO, RawClient.infoRequest(DISK));
            c.assertClosed();
            log.assertLogged("reason=TLS handshake failed:");
        }
    }

    @Test
    void bytesSentAfterStartTlsBeforeItsReplyCloseTheConnection() throws Exception {
        start(require());
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            ByteBuffer both = ByteBuffer.allocate(16 + 5).putLong(IHAVEOPT).putInt(OPT_STARTTLS).putInt(0)
                    .put(new byte[] {0x16, 0x03, 0x01, 0x00, 0x10}).flip();
            c.write(both);
            assertThat(c.readOptionReply().type()).isEqualTo(REP_ACK);
            c.assertClosed();
            log.assertLogged("data after NBD_OPT_STARTTLS before its reply");
        }
    }

    @Test
    void aClientThatStopsMidHandshakeIsDroppedAtTheHandshakeTimeout() throws Exception {
        start(require(), b -> b.handshakeTimeout(Duration.ofMillis(300)));
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            assertThat(c.singleReply(OPT_STARTTLS, new byte[0]).type()).isEqualTo(REP_ACK);
            c.write(new byte[] {0x16, 0x03, 0x01}); // the start of a record header, then nothing
            c.assertClosedWithin(Duration.ofSeconds(10));
            log.assertLogged("(the TLS handshake did not finish)");
        }
        Connections connections = nbd.daemon().connections();
        assertThat(connections.tlsHandshakes(TlsHandshakeResult.TIMEOUT)).isEqualTo(1);
        assertThat(connections.tlsHandshakes(TlsHandshakeResult.FAILURE)).as("counted once, as a timeout").isZero();
        awaitPhaseCounts(connections, 0, 0, 0);
    }

    @Test
    void withoutTlsStartTlsIsRefusedByPolicy() throws Exception {
        start(TlsConfig.OFF);
        RawClient c = nbd.connect().handshake();
        OptionReply r = c.singleReply(OPT_STARTTLS, new byte[0]);
        assertThat(r.type()).isEqualTo(REP_ERR_POLICY);
        assertThat(c.go(DISK)).as("never TLS_REQD").last().extracting(OptionReply::type).isEqualTo(REP_ACK);
    }

    /** The names of NBD_OPT_LIST. */
    private static List<String> listed(RawClient c) throws Exception {
        return c.option(OPT_LIST, new byte[0]).stream().filter(r -> r.type() == REP_SERVER).map(r -> {
            ByteBuffer b = r.buffer();
            byte[] name = new byte[b.getInt()];
            b.get(name);
            return new String(name, StandardCharsets.UTF_8);
        }).toList();
    }

    private static void awaitPhaseCounts(Connections c, long plaintext, long handshaking, long encrypted)
            throws InterruptedException {
        long deadline = System.nanoTime() + RawClient.TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && (c.inTlsPhase(TlsPhase.PLAINTEXT) != plaintext
                || c.inTlsPhase(TlsPhase.HANDSHAKING) != handshaking || c.inTlsPhase(TlsPhase.ENCRYPTED) != encrypted)) {
            Thread.sleep(10);
        }
        assertThat(List.of(c.inTlsPhase(TlsPhase.PLAINTEXT), c.inTlsPhase(TlsPhase.HANDSHAKING),
                c.inTlsPhase(TlsPhase.ENCRYPTED))).containsExactly(plaintext, handshaking, encrypted);
    }
}
