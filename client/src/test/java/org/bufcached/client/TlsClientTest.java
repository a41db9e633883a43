package org.bufcached.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.bufcached.protocol.Nbd;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client library over TLS against real servers started here: bufcached and
 * {@code nbdkit --tls=require} (GnuTLS), each with X.509 (client certificate
 * required) and with a pre-shared key.
 */
@Timeout(120)
class TlsClientTest {
    @TempDir
    Path dir;
    private TestCertificates certs;

    @BeforeEach
    void certificates() {
        certs = TestCertificates.get();
    }

    private TlsOptions x509(String client) {
        return TlsOptions.DEFAULT.withCertificates(certs.client(client));
    }

    private TlsOptions psk(String user) {
        return TlsOptions.DEFAULT.withPskFile(certs.pskKeys()).withUsername(user);
    }

    private Path image() throws Exception {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        return file;
    }

    @Test
    void bufcachedWithX509() throws Exception {
        try (TestServer server = TestServer.bufcached(dir, image(), "off", "--tls", "require", "--tls-certificates",
                certs.server().toString(), "--tls-verify-peer")) {
            roundTrip(server.uri().withTls(x509("alice")));
            // Under TLS 1.3 the refusal may come after the client finished its side of the TLS handshake.
            assertRefused(server.uri().withTls(x509("rogue")), "handshake failed");
            assertRefused(server.uri(), "NBD_REP_ERR_TLS_REQD");
        }
    }

    @Test
    void bufcachedWithPsk() throws Exception {
        try (TestServer server = TestServer.bufcached(dir, image(), "off", "--tls", "require", "--tls-psk",
                certs.pskKeys().toString())) {
            roundTrip(server.uri().withTls(psk("bob")));
            assertRefused(server.uri().withTls(TlsOptions.DEFAULT.withPskFile(certs.pskWrongKeys()).withUsername("bob")),
                    "TLS handshake failed");
        }
    }

    @Test
    void nbdkitWithX509() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "--tls=require", "--tls-certificates=" + certs.server(),
                "--tls-verify-peer", "memory", "16M")) {
            roundTrip(server.uri().withTls(x509("alice")));
            assertRefused(server.uri().withTls(x509("none")), "");
        }
    }

    @Test
    void nbdkitWithPsk() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "--tls=require", "--tls-psk=" + certs.pskKeys(),
                "memory", "16M")) {
            roundTrip(server.uri().withTls(psk("alice")));
            assertRefused(server.uri().withTls(TlsOptions.DEFAULT.withPskFile(certs.pskWrongKeys()).withUsername("alice")),
                    "TLS handshake failed");
        }
    }

    @Test
    void aServerWithoutTlsIsNotUsedInTheClear() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "--tls=off", "memory", "16M")) {
            assertRefused(server.uri().withTls(psk("alice")), "the server refused TLS");
        }
    }

    @Test
    void aMissingPskUsernameIsAClearError() throws Exception {
        try (TestServer server = TestServer.nbdkit(dir, "--tls=require", "--tls-psk=" + certs.pskKeys(),
                "memory", "16M")) {
            assertRefused(server.uri().withTls(psk("carol")), "username carol was not found");
        }
    }

    /** A MITM could append plaintext replies to the STARTTLS acknowledgement; the client must not take them. */
    @Test
    void bytesInTheClearAfterTheStartTlsAckAreRefused() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = socket.accept()) {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    out.writeLong(Nbd.NBDMAGIC);
                    out.writeLong(Nbd.IHAVEOPT);
                    out.writeShort(Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES);
                    in.readInt();
                    in.readLong();
                    int option = in.readInt();
                    in.readInt();
                    for (int forged : new int[] {option, Nbd.NBD_OPT_STRUCTURED_REPLY}) {
                        out.writeLong(Nbd.NBD_REP_MAGIC);
                        out.writeInt(forged);
                        out.writeInt(Nbd.NBD_REP_ACK);
                        out.writeInt(0);
                    }
                    out.flush();
                    in.read(); // until the client hangs up
                } catch (IOException e) {
                    // the client hung up
                }
            });
            server.start();
            assertRefused(NbdUri.tcp("127.0.0.1", socket.getLocalPort(), "").withTls(psk("alice")),
                    "the server sent bytes in the clear after acknowledging NBD_OPT_STARTTLS");
            server.join(10_000);
        }
    }

    private static void roundTrip(NbdUri uri) throws Exception {
        try (NbdClient client = NbdClient.connect(uri).get(20, TimeUnit.SECONDS)) {
            byte[] data = new byte[3 << 20];
            new Random(5).nextBytes(data);
            client.write(1 << 20, Unpooled.wrappedBuffer(data), false).get(20, TimeUnit.SECONDS);
            client.flush().get(20, TimeUnit.SECONDS);
            ByteBuf back = client.read(1 << 20, data.length).get(20, TimeUnit.SECONDS);
            try {
                byte[] got = new byte[data.length];
                back.readBytes(got);
                assertThat(got).isEqualTo(data);
            } finally {
                back.release();
            }
            // The bytes must be encrypted in user space: no sendfile, and a clear refusal.
            assertThat(client.canSendFile()).isFalse();
            try (FileChannel file = FileChannel.open(Files.write(Files.createTempFile("tls", ".bin"), data))) {
                assertThatThrownBy(() -> client.writeFrom(0, file, 0, 4096, false).get(20, TimeUnit.SECONDS))
                        .cause().isInstanceOf(NbdException.class).hasMessage("WRITE from a file needs a plaintext connection");
            }
        }
    }

    private static void assertRefused(NbdUri uri, String message) {
        assertThatThrownBy(() -> NbdClient.connect(uri).get(20, TimeUnit.SECONDS).close())
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(NbdException.class)
                .hasMessageContaining(message);
    }
}
