package org.bufcached.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Installs the Debian package this build made on this machine (as CI runs: root,
 * dpkg and apt), checks what it put where, starts the daemon through the
 * installed launcher with the installed configuration on a temporary export as
 * the bufcached user, talks to it with nbdinfo, removes the package (the service
 * disabled, the data kept) and purges it. Whatever the test created and the
 * package leaves behind on purge (the user, /var/lib/bufcached, /run/bufcached)
 * is removed again, so the machine ends as it was. Skipped where it would touch
 * an installation of someone else's: not root, no dpkg, or bufcached already
 * installed.
 */
class PackageInstallIT {
    private static final Path TARGET = Path.of(System.getProperty("basedir", "."), "target");
    /** Other worktrees on this machine may run this test at the same time: one at a time. */
    private static final Path LOCK = Path.of("/var/lock/bufcached-package-it.lock");
    private static final Path STATE = Path.of("/var/lib/bufcached");
    private static final Path RUN = Path.of("/run/bufcached");
    private static final Path CONFIG = Path.of("/etc/bufcached/bufcached.yaml");
    private static final Duration APT = Duration.ofMinutes(5);

    @TempDir
    Path tmp;

    @Test
    void installServeRemovePurge() throws Exception {
        assumeTrue(run(Duration.ofSeconds(10), "id", "-u").out.strip().equals("0"), "not root; skipping");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dpkg")) && Files.isExecutable(Path.of("/usr/bin/apt-get")),
                "no dpkg/apt; skipping");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/nbdinfo")), "nbdinfo is not installed (libnbd-bin); skipping");
        Path deb = theDeb();
        try (FileChannel lockFile = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.lock()) {
            assumeTrue(!installed(), "a bufcached package is installed on this machine; not touching it");
            boolean hadUser = run(Duration.ofSeconds(10), "getent", "passwd", "bufcached").code == 0;
            boolean hadState = Files.exists(STATE);
            boolean hadRun = Files.exists(RUN);
            try {
                install(deb);
                serveWithTheInstalledLauncherAndConfig();
                removeKeepsDataAndDisables();
                purgeRemovesTheConfiguration();
            } finally {
                run(APT, "dpkg", "--purge", "bufcached");
                cleanUp(hadUser, hadState, hadRun);
            }
        }
    }

    private void install(Path deb) throws Exception {
        run(APT, "apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "--no-install-recommends",
                deb.toAbsolutePath().toString()).assertOk();
        assertThat(installed()).isTrue();
        for (String file : List.of("/usr/bin/bufcached", "/usr/bin/bufcache")) {
            assertThat(Path.of(file)).isExecutable();
        }
        for (String file : List.of("/usr/share/bufcached/bufcached.jar", "/usr/share/bufcached/bufcache.jar",
                "/lib/systemd/system/bufcached.service", "/lib/systemd/system/bufcached.socket",
                "/usr/lib/sysusers.d/bufcached.conf", "/usr/lib/tmpfiles.d/bufcached.conf",
                "/usr/share/man/man8/bufcached.8.gz", "/usr/share/man/man1/bufcache.1.gz",
                "/usr/share/man/man1/bufcache-copy.1.gz", "/usr/share/bash-completion/completions/bufcached",
                "/usr/share/bash-completion/completions/bufcache",
                "/usr/share/doc/bufcached/monitoring/bufcached-dashboard.json")) {
            assertThat(Path.of(file)).isRegularFile();
        }
        assertThat(run(Duration.ofSeconds(10), "dpkg-query", "-W", "-f=${Conffiles}", "bufcached").out)
                .contains(CONFIG.toString());
        // postinst applied sysusers.d and tmpfiles.d, and enabled the service.
        assertThat(run(Duration.ofSeconds(10), "getent", "passwd", "bufcached").assertOk().out)
                .contains("bufcached:").contains(":/var/lib/bufcached:");
        assertThat(Files.getOwner(STATE).getName()).isEqualTo("bufcached");
        assertThat(Files.getOwner(RUN).getName()).isEqualTo("bufcached");
        assertThat(Path.of("/etc/systemd/system/multi-user.target.wants/bufcached.service")).exists();
        assertThat(Files.readAttributes(CONFIG, "unix:group").get("group").toString()).contains("bufcached");

        run(Duration.ofSeconds(60), "/usr/bin/bufcached", "--check-config", CONFIG.toString()).assertOk();
        Result verify = run(Duration.ofSeconds(60), "systemd-analyze", "verify",
                "/lib/systemd/system/bufcached.service", "/lib/systemd/system/bufcached.socket");
        assertThat(verify.out + verify.err).as("systemd-analyze verify on the installed units").isEmpty();
        verify.assertOk();

        String daemonVersion = run(Duration.ofSeconds(60), "/usr/bin/bufcached", "--version").assertOk().out.strip();
        String clientVersion = run(Duration.ofSeconds(60), "/usr/bin/bufcache", "--version").assertOk().out.strip();
        assertThat(daemonVersion).matches("bufcached \\S+ \\(commit \\S+\\)");
        assertThat(clientVersion).isEqualTo(daemonVersion.replaceFirst("^bufcached", "bufcache"));

        assertThat(run(Duration.ofSeconds(30), "bash", "-c",
                ". /usr/share/bash-completion/completions/bufcache && complete -p bufcache").assertOk().out)
                .contains("bufcache");
        assertThat(run(Duration.ofSeconds(30), "sh", "-c", "gzip -dc /usr/share/man/man8/bufcached.8.gz").out)
                .contains(".TH \"BUFCACHED\" \"8\"").contains("\\-\\-check\\-config");
    }

    /** As the service would: user bufcached, /etc/bufcached/bufcached.yaml, its export replaced by a temporary one. */
    private void serveWithTheInstalledLauncherAndConfig() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("serve"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        run(Duration.ofSeconds(10), "chown", "bufcached:bufcached", dir.toString()).assertOk();
        Path socket = dir.resolve("nbd.sock");
        int port = freePort();
        int metrics = freePort();
        Path log = tmp.resolve("daemon.log");
        List<String> cmd = List.of("setpriv", "--reuid=bufcached", "--regid=bufcached", "--init-groups",
                "/usr/bin/bufcached", "--config", CONFIG.toString(),
                "--export", "disk=" + dir.resolve("disk.img") + ",size=64M",
                "--unix", socket.toString(), "--tcp", "127.0.0.1:" + port, "--metrics", "127.0.0.1:" + metrics);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET").forEach(pb.environment()::remove);
        Process daemon = pb.start();
        try {
            awaitLog(daemon, log, "bufcached ready");
            assertThat(Files.readString(log)).contains("export 'disk': nbd://127.0.0.1:" + port + "/disk nbd+unix:///disk?socket="
                    + socket);
            assertThat(run(Duration.ofSeconds(60), "nbdinfo", "nbd+unix:///disk?socket=" + socket).assertOk().out)
                    .contains("export-size: 67108864");
            assertThat(run(Duration.ofSeconds(60), "nbdinfo", "nbd://127.0.0.1:" + port + "/disk").assertOk().out)
                    .contains("export-size: 67108864");
        } finally {
            daemon.destroy();
            if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
        }
        assertThat(daemon.exitValue()).as("exit status after SIGTERM; log:%n%s", Files.readString(log)).isZero();
        assertThat(Files.getOwner(dir.resolve("disk.img")).getName()).isEqualTo("bufcached");
    }

    private void removeKeepsDataAndDisables() throws Exception {
        Path data = STATE.resolve("package-it-keep.img");
        Files.writeString(data, "operator data");
        run(APT, "apt-get", "-o", "DPkg::Lock::Timeout=300", "remove", "-y", "-q", "bufcached").assertOk();
        assertThat(Path.of("/usr/bin/bufcached")).doesNotExist();
        assertThat(Path.of("/lib/systemd/system/bufcached.service")).doesNotExist();
        assertThat(Path.of("/etc/systemd/system/multi-user.target.wants/bufcached.service")).doesNotExist();
        assertThat(CONFIG).as("remove keeps conffiles").exists();
        assertThat(Files.readString(data)).isEqualTo("operator data");
    }

    private void purgeRemovesTheConfiguration() throws Exception {
        run(APT, "apt-get", "-o", "DPkg::Lock::Timeout=300", "purge", "-y", "-q", "bufcached").assertOk();
        assertThat(CONFIG).doesNotExist();
        assertThat(STATE.resolve("package-it-keep.img")).as("purge leaves the export files alone").exists();
        assertThat(installed()).isFalse();
    }

    /** Takes away what this test brought: its marker file, and the user and directories if they were new. */
    private void cleanUp(boolean hadUser, boolean hadState, boolean hadRun) throws IOException {
        Files.deleteIfExists(STATE.resolve("package-it-keep.img"));
        if (!hadState) {
            deleteTree(STATE);
        }
        if (!hadRun) {
            deleteTree(RUN);
        }
        if (!hadUser) {
            run(Duration.ofSeconds(30), "userdel", "bufcached");
            run(Duration.ofSeconds(30), "groupdel", "bufcached");
        }
        if (!Files.exists(Path.of("/etc/bufcached")) || isEmptyDirectory(Path.of("/etc/bufcached"))) {
            Files.deleteIfExists(Path.of("/etc/bufcached"));
        }
    }

    private static boolean installed() {
        return run(Duration.ofSeconds(10), "dpkg-query", "-W", "-f=${Status}", "bufcached").out
                .contains("install ok installed");
    }

    private static Path theDeb() throws IOException {
        try (Stream<Path> files = Files.list(TARGET)) {
            List<Path> debs = files.filter(p -> p.getFileName().toString().matches("bufcached_.*_all\\.deb")).toList();
            assertThat(debs).as("the package built by this module in %s", TARGET).hasSize(1);
            return debs.get(0);
        }
    }

    private static void awaitLog(Process daemon, Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains(text)) {
            assertThat(daemon.isAlive()).as("daemon running; log:%n%s", Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as("'%s' in the log within 60 s:%n%s", text, Files.readString(log))
                    .isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A finished command. */
    private record Result(List<String> command, int code, String out, String err) {
        Result assertOk() {
            assertThat(code).as("exit status of %s%n--- stdout ---%n%s%n--- stderr ---%n%s", command, out, err).isZero();
            return this;
        }
    }

    /** Runs a command without input, bounded in time; its output in files so no pipe can fill. */
    private static Result run(Duration timeout, String... command) {
        try {
            Path out = Files.createTempFile("package-it-", ".out");
            Path err = Files.createTempFile("package-it-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(command)))
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout);
                }
                return new Result(List.of(command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
