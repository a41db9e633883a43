package org.bufcached.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.reload.ConfigFile;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged daemon started the way systemd starts it under bufcached.socket:
 * {@code systemd-socket-activate} binds a TCP socket, waits for the first
 * client, and execs the daemon with the socket as fd 3 and LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES set; NOTIFY_SOCKET points at a test socket.
 */
class SocketActivationIT {
    private static final Path JAR = Path.of(System.getProperty("bufcached.jar",
            Path.of(System.getProperty("basedir", "."), "target", "bufcached.jar").toString()));

    @TempDir
    Path dir;

    @Test
    void servesTheInheritedSocketAndNotifiesReadyAndStopping() throws Exception {
        Path activate = Path.of("/usr/bin/systemd-socket-activate");
        assumeTrue(Files.isExecutable(activate), "systemd-socket-activate not installed (package systemd)");
        assertThat(JAR).exists();
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        ConfigFile config = new ConfigFile(dir).export("disk");
        config.write();
        String notify = dir.resolve("notify").toString();
        String java = ProcessHandle.current().info().command().orElse("java");
        try (NotifySocket systemd = new NotifySocket(notify)) {
            Process daemon = new ProcessBuilder(List.of(activate.toString(), "-l", "127.0.0.1:" + port,
                    "--fdname=nbd", "-E", "NOTIFY_SOCKET=" + notify,
                    java, "-jar", JAR.toString(), "--config", config.path().toString()))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
            try {
                try (RawClient client = connectWhenListening(port)) {
                    // The first client is what makes systemd-socket-activate start the daemon.
                    assertThat(systemd.nextStartingWith("READY=1"))
                            .contains("STATUS=serving 1 exports on 1 listeners");
                    client.handshake().enter("disk").assertRoundTrip(0, new byte[] {7, 7, 7});
                }
                assertThat(config.socket()).as("listen.unix is not bound under socket activation").doesNotExist();
                daemon.destroy(); // SIGTERM
                assertThat(systemd.nextStartingWith("STOPPING=1")).isNotNull();
                assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(daemon.exitValue()).as(Files.readString(dir.resolve("daemon.log"))).isZero();
            } finally {
                daemon.destroyForcibly();
            }
        }
    }

    /** systemd-socket-activate binds just after it starts; retry the connect until then. */
    private static RawClient connectWhenListening(int port) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return RawClient.connect(new InetSocketAddress("127.0.0.1", port));
            } catch (java.net.ConnectException e) {
                if (attempt == 100) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }
}
