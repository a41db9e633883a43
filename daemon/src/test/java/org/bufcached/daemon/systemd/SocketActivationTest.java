package org.bufcached.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.Socket;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.reload.ConfigFile;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adopting sockets that are already bound and listening, as systemd passes them.
 * In-process, the sockets are made here and their descriptor numbers handed
 * over; {@code SocketActivationIT} passes real inherited descriptors.
 */
class SocketActivationTest {
    @TempDir
    Path dir;

    @Test
    void listenFdsAreForThisProcessOnly() {
        assertThat(ListenFds.fromEnvironment(Map.of(), 42)).isEmpty();
        assertThat(ListenFds.fromEnvironment(Map.of("LISTEN_PID", "7", "LISTEN_FDS", "1"), 42)).isEmpty();
    }

    @Test
    void daemonServesInheritedTcpAndUnixSocketsInsteadOfBinding() throws Exception {
        Socket tcp = Socket.newSocketStream();
        tcp.bind(new InetSocketAddress("127.0.0.1", 0));
        tcp.listen(16);
        Path unixPath = dir.resolve("inherited.sock");
        Socket unix = Socket.newSocketDomain();
        unix.bind(new DomainSocketAddress(unixPath.toString()));
        unix.listen(16);
        assertThat(ListenFds.unixPath(tcp.intValue(), "tcp")).isNull();
        assertThat(ListenFds.unixPath(unix.intValue(), "unix")).isEqualTo(unixPath.toString());

        ConfigFile config = new ConfigFile(dir).export("disk");
        Systemd systemd = new Systemd(Notifier.NONE, List.of(new InheritedSocket(tcp.intValue(), "nbd", false),
                new InheritedSocket(unix.intValue(), "nbd", true, unixPath.toString())), Optional.empty());
        Daemon daemon = new Daemon(config.write(), systemd);
        daemon.start();
        try {
            assertThat(config.socket()).as("the configured socket is not bound").doesNotExist();
            try (RawClient c = RawClient.connect(tcp.localAddress()).handshake().enter("disk")) {
                c.assertRoundTrip(0, new byte[] {1, 2, 3});
            }
            try (RawClient c = RawClient.connect(UnixDomainSocketAddress.of(unixPath)).handshake().enter("disk")) {
                c.assertRoundTrip(4096, new byte[] {4, 5, 6});
            }
        } finally {
            daemon.stop();
        }
    }
}
