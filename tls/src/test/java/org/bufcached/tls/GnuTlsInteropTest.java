package org.bufcached.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The experiment behind the choice of suites, kept as a test: GnuTLS's
 * {@code gnutls-cli} configured as libnbd, nbdkit and qemu configure it
 * ({@code NORMAL:+ECDHE-PSK:+DHE-PSK:+PSK}) against the BouncyCastle server, in
 * TLS 1.3 (external PSK) and, with TLS 1.3 taken out, TLS 1.2 (DHE-PSK).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GnuTlsInteropTest {
    private static final String LIBNBD_PRIORITY = "NORMAL:-VERS-SSL3.0:+ECDHE-PSK:+DHE-PSK:+PSK";
    private static final String KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    @TempDir
    Path dir;
    private PskKeys keys;

    @BeforeEach
    void setUp() throws IOException {
        assumeTrue(new File("/usr/bin/gnutls-cli").canExecute(),
                "gnutls-cli is not installed (Debian package gnutls-bin); skipping");
        keys = PskKeys.read(Files.writeString(dir.resolve("keys.psk"), "alice:" + KEY + "\n"));
    }

    @ParameterizedTest
    @CsvSource({LIBNBD_PRIORITY + ", TLS 1.3", LIBNBD_PRIORITY + ":-VERS-TLS1.3, TLS 1.2"})
    void gnutlsClientCompletesTheHandshake(String priority, String version) throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            Process cli = gnutlsCli(peers.port(), priority, "alice", KEY);
            try {
                PskPeers.End server = peers.accepted.get(20, TimeUnit.SECONDS);
                assertThat(server.handshake.get(20, TimeUnit.SECONDS).isSuccess()).isTrue();
                assertThat(peers.serverHandler.get().identity()).isEqualTo("alice");
                assertThat(peers.serverHandler.get().protocol()).isEqualTo(version);
            } finally {
                cli.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Data after the handshake, in TLS 1.3 only: gnutls-cli 3.7.9 itself crashes
     * right after a TLS 1.2 PSK handshake (printing the session, before it reads
     * its input). libnbd carries data over TLS 1.2 PSK: the daemon's TLS tests
     * run nbdinfo with TLS 1.3 disabled.
     */
    @Test
    void dataFromGnutlsArrives() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            Process cli = gnutlsCli(peers.port(), LIBNBD_PRIORITY, "alice", KEY);
            try (OutputStream in = cli.getOutputStream()) {
                PskPeers.End server = peers.accepted.get(20, TimeUnit.SECONDS);
                assertThat(server.handshake.get(20, TimeUnit.SECONDS).isSuccess()).isTrue();
                in.write("hello over PSK\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (server.receivedBytes() < 15 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(server.received.toString(StandardCharsets.UTF_8))
                        .as("what the server received; gnutls-cli said:%n%s", Files.readString(dir.resolve("gnutls-cli.log")))
                        .isEqualTo("hello over PSK\n");
            } finally {
                cli.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void gnutlsWithTheWrongKeyIsRefused() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            Process cli = gnutlsCli(peers.port(), LIBNBD_PRIORITY, "alice", KEY.replace('0', '1'));
            try {
                SslHandshakeCompletionEvent event = peers.accepted.get(20, TimeUnit.SECONDS).handshake
                        .get(20, TimeUnit.SECONDS);
                assertThat(event.cause()).hasMessageContaining("decrypt_error");
                assertThat(cli.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(cli.exitValue()).isNotZero();
            } finally {
                cli.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void gnutlsWithAnUnknownUsernameIsRefused() throws Exception {
        try (PskPeers peers = new PskPeers(keys)) {
            Process cli = gnutlsCli(peers.port(), LIBNBD_PRIORITY, "mallory", KEY);
            try {
                SslHandshakeCompletionEvent event = peers.accepted.get(20, TimeUnit.SECONDS).handshake
                        .get(20, TimeUnit.SECONDS);
                assertThat(event.cause()).hasMessageContaining("unknown PSK username mallory");
            } finally {
                cli.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Process gnutlsCli(int port, String priority, String user, String key) throws IOException {
        return new ProcessBuilder(List.of("gnutls-cli", "--priority", priority, "--pskusername", user,
                "--pskkey", key, "-p", Integer.toString(port), "127.0.0.1"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("gnutls-cli.log").toFile()).start();
    }
}
