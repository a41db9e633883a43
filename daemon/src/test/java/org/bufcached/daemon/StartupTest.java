package org.bufcached.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.bufcached.daemon.export.CheckedOpener;
import org.bufcached.daemon.reload.ConfigFile;
import org.bufcached.daemon.systemd.Systemd;
import org.bufcached.daemon.testing.LogCapture;
import org.bufcached.protocol.BuildInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees when the daemon starts: errors as one line each that
 * names the export or listener and says what to do, ports checked before any
 * export is touched, and a line per export with the URIs to use.
 */
class StartupTest {
    @TempDir
    Path dir;

    /** What one run printed on stderr, and its exit code. */
    private record Run(int code, String out, String err) {
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Main.commandLine()
                .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args));
        return new Run(code, out.toString(), err.toString());
    }

    private String socket() {
        return dir.resolve("nbd.sock").toString();
    }

    @Test
    void aMissingExportFileIsOneLineThatSaysHowToCreateIt() {
        Path file = dir.resolve("disk.img");
        Run r = run("--unix", socket(), "--metrics", "off", "--export", "disk=" + file);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("bufcached: export 'disk': " + file
                + " does not exist (add size=... to create it)" + System.lineSeparator());
    }

    @Test
    void aDirectoryAsExportSaysSo() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("images"));
        Run r = run("--unix", socket(), "--metrics", "off", "--export", "disk=" + sub);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("bufcached: export 'disk': " + sub + " is a directory");
    }

    @Test
    void aPortInUseIsReportedBeforeAnyExportIsOpened() throws Exception {
        Path file = dir.resolve("new.img");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Run r = run("--tcp", "127.0.0.1:" + port, "--metrics", "off", "--export", "disk=" + file + ",size=1M");
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).startsWith("bufcached: cannot listen on tcp 127.0.0.1:" + port
                    + ": address already in use (").doesNotContain("Exception").hasLineCount(1);
        }
        assertThat(file).as("the export was never opened, so never created").doesNotExist();
    }

    @Test
    void aMetricsPortInUseNamesTheOptionThatMovesIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run r = run("--unix", socket(), "--metrics", "127.0.0.1:" + taken.getLocalPort(),
                    "--export", "disk=" + dir.resolve("d.img") + ",size=1M");
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).contains("cannot listen on metrics http 127.0.0.1:" + taken.getLocalPort())
                    .contains("--metrics HOST:PORT|off");
        }
    }

    @Test
    void configurationProblemsAreLinesInTheSameStyle() throws Exception {
        Path yaml = Files.writeString(dir.resolve("bad.yaml"), "cache:\n  size: lots\n");
        Run r = run("--config", yaml.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("bufcached: " + yaml + ":2:9: cache.size: ");
    }

    @Test
    void versionNamesTheBuildAndCommit() {
        Run r = run("--version");
        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).isEqualTo("bufcached " + BuildInfo.current().version() + " (commit "
                + BuildInfo.current().commit() + ")");
    }

    @Test
    void eachExportIsLoggedWithItsUrisAndASizeBelowTheFileIsAWarning() throws Exception {
        try (RandomAccessFile big = new RandomAccessFile(dir.resolve("disk.img").toFile(), "rw")) {
            big.setLength(4L << 20);
        }
        ConfigFile config = new ConfigFile(dir).export("disk", "1MiB", "");
        try (LogCapture daemonLog = new LogCapture(Daemon.class); LogCapture openerLog = new LogCapture(CheckedOpener.class)) {
            Daemon daemon = new Daemon(config.write(), Systemd.none());
            daemon.start();
            try {
                int port = ((java.net.InetSocketAddress) daemon.server().bindTcp("127.0.0.1", 0)).getPort();
                assertThat(openerLog.awaitLine("more than size=")).isEqualTo("export 'disk': " + dir.resolve("disk.img")
                        + " is 4194304 bytes, more than size=1048576; serving all of it (size= never shrinks a file)");
                assertThat(daemonLog.awaitLine("export 'disk': ")).startsWith("export 'disk': nbd+unix:///disk?socket="
                        + config.socket() + " (4194304 bytes");
                daemon.apply(org.bufcached.config.ConfigDiff.between(daemon.running(), daemon.running()),
                        daemon.running());
                assertThat(daemonLog.messages()).as("after a reload, every listener")
                        .anyMatch(m -> m.contains("nbd://127.0.0.1:" + port + "/disk"));
            } finally {
                daemon.stop();
            }
        }
    }
}
