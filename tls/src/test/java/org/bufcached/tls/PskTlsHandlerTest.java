package org.bufcached.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Both ends of TLS-PSK on BouncyCastle, over loopback: data both ways, and every way a handshake fails. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PskTlsHandlerTest {
    private static final byte[] KEY = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

    @TempDir
    Path dir;
    private PskKeys keys;

    @BeforeEach
    void keys() throws IOException {
        keys = PskKeys.read(Files.writeString(dir.resolve("keys.psk"), "alice:0102030405060708090a0b0c0d0e0f10\n"));
    }

    @Test
    void theRightKeyCarriesDataBothWays() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            PskPeers.End client = peers.connect(() -> PskTlsHandler.client("alice", KEY));
            // Written before the handshake completes: held until it does.
            byte[] data = new byte[3 << 20];
            new Random(1).nextBytes(data);
            client.channel.writeAndFlush(Unpooled.wrappedBuffer(data));
            assertThat(client.handshake.get(10, TimeUnit.SECONDS).isSuccess()).isTrue();
            PskPeers.End server = peers.accepted.get(10, TimeUnit.SECONDS);
            assertThat(server.handshake.get(10, TimeUnit.SECONDS).isSuccess()).isTrue();
            PskTlsHandler serverTls = peers.serverHandler.get();
            assertThat(serverTls.identity()).isEqualTo("alice");
            assertThat(serverTls.protocol()).isEqualTo("TLS 1.3");
            awaitBytes(client, data.length);
            byte[] echoed = new byte[data.length];
            client.received.getBytes(0, echoed);
            assertThat(echoed).isEqualTo(data);
            client.channel.close().sync();
            server.closed.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aWrongKeyFailsBothEnds() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            byte[] wrong = KEY.clone();
            wrong[0] = 99;
            PskPeers.End client = peers.connect(() -> PskTlsHandler.client("alice", wrong));
            SslHandshakeCompletionEvent serverSaw = peers.accepted.get(10, TimeUnit.SECONDS).handshake
                    .get(10, TimeUnit.SECONDS);
            assertThat(serverSaw.isSuccess()).isFalse();
            assertThat(serverSaw.cause()).hasMessageContaining("decrypt_error")
                    .hasMessageContaining("PSK username alice: do both sides have the same key?");
            assertThat(client.handshake.get(10, TimeUnit.SECONDS).cause()).hasMessageContaining("decrypt_error");
            client.closed.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anUnknownUsernameIsNamed() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            PskPeers.End client = peers.connect(() -> PskTlsHandler.client("mallory", KEY));
            SslHandshakeCompletionEvent serverSaw = peers.accepted.get(10, TimeUnit.SECONDS).handshake
                    .get(10, TimeUnit.SECONDS);
            assertThat(serverSaw.cause()).hasMessageContaining("unknown_psk_identity")
                    .hasMessageContaining("unknown PSK username mallory");
            assertThat(client.handshake.get(10, TimeUnit.SECONDS).isSuccess()).isFalse();
        }
    }

    @Test
    void garbageInsteadOfAClientHelloIsAFailedHandshake() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            PskPeers.End raw = peers.connect(null);
            raw.channel.writeAndFlush(Unpooled.wrappedBuffer("GET / HTTP/1.0\r\n\r\n".getBytes())).sync();
            PskPeers.End server = peers.accepted.get(10, TimeUnit.SECONDS);
            assertThat(server.handshake.get(10, TimeUnit.SECONDS).isSuccess()).isFalse();
            server.closed.get(10, TimeUnit.SECONDS);
            raw.closed.get(10, TimeUnit.SECONDS);
            assertThat(server.receivedBytes()).as("nothing reached the handler behind TLS").isZero();
        }
    }

    @Test
    void aClientThatHangsUpMidHandshakeIsAFailedHandshake() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            PskPeers.End raw = peers.connect(null);
            // The first bytes of a TLS record header (handshake, TLS 1.0 framing), then nothing.
            raw.channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {0x16, 0x03, 0x01})).sync();
            raw.channel.close().sync();
            SslHandshakeCompletionEvent serverSaw = peers.accepted.get(10, TimeUnit.SECONDS).handshake
                    .get(10, TimeUnit.SECONDS);
            assertThat(serverSaw.cause()).hasMessageContaining("the connection closed during the TLS handshake");
        }
    }

    private static void awaitBytes(PskPeers.End end, int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (end.receivedBytes() < count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(end.receivedBytes()).isEqualTo(count);
    }
}
