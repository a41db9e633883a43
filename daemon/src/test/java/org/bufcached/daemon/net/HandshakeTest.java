package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.DISK_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TestDaemon;
import org.junit.jupiter.api.Test;

/**
 * The start of the fixed newstyle handshake: greeting, client flags, the ways a
 * client can leave it (EXPORT_NAME, ABORT, garbage, silence) and the TCP listener.
 * Each connection the server must drop is dropped alone: a connection opened
 * before and one opened after still work and read back acknowledged data.
 */
class HandshakeTest extends DaemonTest {
    private static final int RW_FLAGS = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM
            | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO | FLAG_CAN_MULTI_CONN | FLAG_SEND_CACHE;

    @Test
    void greetingIsNbdmagicIhaveoptAndFixedNewstyleWithNoZeroes() throws Exception {
        RawClient c = nbd.connect();
        byte[] expected = ByteBuffer.allocate(18).putLong(0x4e42444d41474943L).putLong(0x49484156454F5054L)
                .putShort((short) 0x0003).array();
        assertThat(c.readBytes(18)).isEqualTo(expected);
        c.assertOpenFor(Duration.ofMillis(100)); // nothing more until the client's flags
    }

    @Test
    void unknownClientFlagClosesTheConnectionAndOnlyIt() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect();
            c.readGreeting();
            c.sendClientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES | 1 << 5);
            c.assertClosed();
            log.assertLogged("unknown client flags");
        }
        witness.assertDaemonServes();
    }

    @Test
    void exportNameReplyWithNoZeroesIsTenBytes() throws Exception {
        RawClient c = nbd.connect().handshake();
        c.sendOption(OPT_EXPORT_NAME, DISK.getBytes());
        ByteBuffer reply = c.read(10);
        assertThat(reply.getLong()).as("export size").isEqualTo(DISK_SIZE);
        assertThat(reply.getShort() & 0xFFFF).as("transmission flags").isEqualTo(RW_FLAGS);
        // The very next bytes must be the reply to a request, not padding.
        c.assertRoundTrip(0, pattern(512, 1));
    }

    @Test
    void exportNameReplyWithoutNoZeroesHas124ZeroBytes() throws Exception {
        RawClient c = nbd.connect();
        c.readGreeting();
        c.sendClientFlags(FLAG_C_FIXED_NEWSTYLE);
        c.sendOption(OPT_EXPORT_NAME, DISK.getBytes());
        ByteBuffer reply = c.read(134);
        assertThat(reply.getLong()).as("export size").isEqualTo(DISK_SIZE);
        assertThat(reply.getShort() & 0xFFFF).as("transmission flags").isEqualTo(RW_FLAGS);
        byte[] padding = new byte[124];
        reply.get(padding);
        assertThat(padding).isEqualTo(new byte[124]);
        c.assertRoundTrip(0, pattern(512, 2));
    }

    @Test
    void exportNameForAnUnknownExportClosesTheConnection() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        RawClient c = nbd.connect().handshake();
        c.sendOption(OPT_EXPORT_NAME, "nosuch".getBytes());
        c.assertClosed();
        witness.assertDaemonServes();
    }

    @Test
    void garbageInsteadOfIhaveoptClosesTheConnection() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            c.assertClosed();
            log.assertLogged("handshake failure");
        }
        witness.assertDaemonServes();
    }

    @Test
    void truncatedOptionThenCloseIsLoggedAndOthersAreServed() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        try (LogCapture log = new LogCapture(HandshakeHandler.class)) {
            RawClient c = nbd.connect().handshake();
            c.sendOptionHeader(OPT_GO, 100);
            c.write(new byte[10]);
            c.close();
            log.assertLogged("handshake failure");
        }
        witness.assertDaemonServes();
    }

    @Test
    void abortIsAcknowledgedThenTheConnectionCloses() throws Exception {
        RawClient c = nbd.connect().handshake();
        assertThat(c.singleReply(OPT_ABORT, new byte[0]).type()).isEqualTo(REP_ACK);
        c.assertClosed();
    }

    @Test
    void abortWithDataIsAcknowledgedToo() throws Exception {
        // The spec: the server SHOULD ignore data sent with NBD_OPT_ABORT rather than reject it.
        RawClient c = nbd.connect().handshake();
        assertThat(c.singleReply(OPT_ABORT, new byte[] {1, 2, 3}).type()).isEqualTo(REP_ACK);
        c.assertClosed();
    }

    @Test
    void idleClientInTheHandshakeIsDroppedAfterTheHandshakeTimeout() throws Exception {
        try (TestDaemon quick = TestDaemon.builder(subdir("quick")).handshakeTimeout(Duration.ofMillis(500)).start()) {
            RawClient silent = quick.connect();
            silent.readGreeting();
            RawClient haggling = quick.connect().handshake();
            assertThat(haggling.singleReply(99, new byte[0]).type()).isEqualTo(REP_ERR_UNSUP);
            silent.assertClosedWithin(Duration.ofSeconds(5));
            haggling.assertClosedWithin(Duration.ofSeconds(5));
        }
    }

    @Test
    void clientInTransmissionIsNotDroppedByTheHandshakeTimeout() throws Exception {
        try (TestDaemon quick = TestDaemon.builder(subdir("quick")).handshakeTimeout(Duration.ofMillis(300)).start()) {
            RawClient viaGo = quick.open(DISK);
            RawClient viaExportName = quick.connect().handshake();
            viaExportName.sendOption(OPT_EXPORT_NAME, DISK.getBytes());
            viaExportName.read(10);
            viaGo.assertOpenFor(Duration.ofMillis(900));
            viaGo.assertRoundTrip(0, pattern(4096, 3));
            viaExportName.assertRoundTrip(4096, pattern(4096, 4));
        }
    }

    @Test
    void tcpListenerServesTheSameProtocol() throws Exception {
        RawClient c = nbd.connectTcp();
        assertThat(c.readGreeting()).isEqualTo(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        c.sendClientFlags(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        c.enter(DISK).assertRoundTrip(8192, pattern(4096, 5));
        assertThat(nbd.open(DISK).read(8192, 4096).assertOk().data()).isEqualTo(pattern(4096, 5));
    }

    @Test
    void garbageOnTcpClosesOnlyThatConnection() throws Exception {
        TestDaemon.Witness witness = nbd.witness();
        RawClient c = nbd.connectTcp();
        c.readGreeting();
        c.write(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        c.assertClosed();
        witness.assertDaemonServes();
        nbd.connectTcp().handshake().enter(DISK).assertRoundTrip(0, pattern(100, 6));
    }

    private Path subdir(String name) throws Exception {
        return java.nio.file.Files.createDirectories(dir.resolve(name));
    }
}
