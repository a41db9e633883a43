package org.bufcached.client.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.bufcached.client.BlockingHandshake;
import org.bufcached.client.ClientOptions;
import org.bufcached.client.ExportInfo;
import org.bufcached.client.TestServer;
import org.bufcached.client.cli.CliTest;
import org.bufcached.protocol.OptionReplies.BlockSize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * attach/detach without a kernel module: the ioctl sequence against a recording
 * fake, the real system calls against devices that are not nbd devices, and the
 * user-space handshake on a plain file descriptor against nbdkit.
 */
class NbdDeviceTest {
    @TempDir
    Path dir;

    /** Records every call; DO_IT returns at once as if the device had been disconnected. */
    static final class Recorder implements Ioctls {
        final List<String> calls = new ArrayList<>();

        @Override
        public int open(String path) {
            calls.add("open " + path);
            return 42;
        }

        @Override
        public void ioctl(int fd, String name, long request, long arg) {
            calls.add(name + "(" + Long.toHexString(request) + ", " + arg + ")");
        }

        @Override
        public void close(int fd) {
            calls.add("close");
        }
    }

    @Test
    void attachIssuesTheNbdClientSequence() throws Exception {
        Recorder r = new Recorder();
        ExportInfo info = new ExportInfo("disk", 1 << 20, 0x0d, new BlockSize(512, 4096, 1 << 25), null, false, false, Map.of());
        try (NbdDevice dev = NbdDevice.open(r, "/dev/nbd7")) {
            dev.configure(info, 9, 30);
            AtomicReference<IOException> exit = new AtomicReference<>();
            dev.serve(exit::set).join();
            assertThat(exit.get()).isNull();
        }
        assertThat(r.calls).containsExactly("open /dev/nbd7", "NBD_SET_BLKSIZE(ab01, 512)", "NBD_SET_SIZE(ab02, 1048576)",
                "NBD_CLEAR_SOCK(ab04, 0)", "NBD_SET_FLAGS(ab0a, 13)", "NBD_SET_SOCK(ab00, 9)",
                "NBD_SET_TIMEOUT(ab09, 30)", "NBD_DO_IT(ab03, 0)", "NBD_CLEAR_QUE(ab05, 0)", "NBD_CLEAR_SOCK(ab04, 0)",
                "close");
    }

    @Test
    void detachIssuesDisconnectAndClearSock() throws Exception {
        Recorder r = new Recorder();
        try (NbdDevice dev = NbdDevice.open(r, "/dev/nbd3")) {
            dev.disconnect();
        }
        assertThat(r.calls).containsExactly("open /dev/nbd3", "NBD_DISCONNECT(ab08, 0)", "NBD_CLEAR_SOCK(ab04, 0)", "close");
    }

    @Test
    void realIoctlOnANonNbdDeviceSaysSo() throws Exception {
        try (NbdDevice dev = NbdDevice.open(new LibcIoctls(), "/dev/null")) {
            assertThatThrownBy(dev::disconnect).isInstanceOf(IOException.class).hasMessageContaining("not an nbd device");
        }
        assertThatThrownBy(() -> NbdDevice.open(new LibcIoctls(), "/dev/nbd-does-not-exist"))
                .isInstanceOf(IOException.class).hasMessageContaining("does not exist");
    }

    @Test
    void cliErrorPathsExitNonZeroWithOneLine() throws Exception {
        CliTest.Run detach = CliTest.run("detach", "/dev/null");
        assertThat(detach.code()).isEqualTo(1);
        assertThat(detach.err()).contains("not an nbd device");
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 1 << 20)) {
            CliTest.Run attach = CliTest.run("attach", server.uri().toString(), "/dev/null");
            assertThat(attach.code()).isEqualTo(1);
            assertThat(attach.err().strip()).contains("NBD_SET_BLKSIZE failed: not an nbd device").doesNotContain("\n");
            CliTest.Run missing = CliTest.run("attach", server.uri().toString(), "/dev/nbd-missing");
            assertThat(missing.code()).isEqualTo(1);
            assertThat(missing.err()).contains("/dev/nbd-missing does not exist");
        }
        assertThat(CliTest.run("attach", "nbd://localhost/", "/dev/nbd0", "--timeout", "-1").code()).isEqualTo(2);
    }

    @Test
    void userSpaceHandshakeOnAPlainSocketDescriptor() throws Exception {
        try (TestServer server = TestServer.start(TestServer.Kind.NBDKIT_MEMORY, dir, 1 << 20);
             FdSocket socket = FdSocket.connect(server.uri())) {
            ExportInfo info = BlockingHandshake.go(socket, "", ClientOptions.SIMPLE);
            assertThat(info.size()).isEqualTo(1 << 20);
            assertThat(info.structuredReplies()).isFalse();
            assertThat(socket.fd()).isPositive();
        }
    }
}
