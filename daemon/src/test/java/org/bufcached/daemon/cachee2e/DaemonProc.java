package org.bufcached.daemon.cachee2e;

import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.testing.RawClient;

/**
 * The daemon as a child process ({@code java -jar bufcached.jar --config FILE}),
 * optionally under a wrapper such as strace; its output in {@code daemon.log} of
 * its directory. Same conventions as the interop suite's DaemonProcess, which is
 * package-private there.
 */
final class DaemonProc implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final Path socket;
    private boolean closed;

    private DaemonProc(Process process, Path log, Path socket) {
        this.process = process;
        this.log = log;
        this.socket = socket;
    }

    /**
     * Writes {@code yaml} plus a listen section (the Unix socket {@code dir/nbd.sock},
     * no TCP) and metrics off to {@code dir/bufcached.yaml} and starts the daemon on it.
     */
    static DaemonProc start(Path dir, String yaml, String... wrapper) throws IOException {
        return start(dir, yaml, 0, wrapper);
    }

    /** As {@link #start(Path, String, String...)}, with the metrics endpoint on 127.0.0.1:{@code metricsPort} unless 0. */
    static DaemonProc start(Path dir, String yaml, int metricsPort, String... wrapper) throws IOException {
        Files.createDirectories(dir);
        Path socket = dir.resolve("nbd.sock");
        Files.deleteIfExists(socket);
        Path config = dir.resolve("bufcached.yaml");
        String metrics = metricsPort == 0 ? "metrics:\n  enabled: false\n"
                : "metrics:\n  enabled: true\n  listen: 127.0.0.1:" + metricsPort + "\n";
        Files.writeString(config, "listen:\n  tcp: []\n  unix: [\"" + socket + "\"]\n" + metrics + yaml,
                StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(Arrays.asList(wrapper));
        cmd.addAll(List.of(java(), "-jar", jar().toString(), "--config", config.toString()));
        Path log = dir.resolve("daemon.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
                .forEach(pb.environment()::remove);
        DaemonProc d = new DaemonProc(pb.start(), log, socket);
        d.awaitReady(String.join(" ", cmd));
        return d;
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago. */
    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The value of one un-labelled sample of the Prometheus endpoint, or -1. */
    static double metric(int port, String name) throws IOException, InterruptedException {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(java.time.Duration.ofSeconds(10)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        return -1;
    }

    /** The cache lines of the Prometheus endpoint (no histogram buckets), for failure messages. */
    static String cacheMetrics(int port) {
        try {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .timeout(java.time.Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            StringBuilder b = new StringBuilder();
            for (String line : r.body().split("\n")) {
                // Leave out histogram buckets and the limits (tunables), which do not move.
                if (line.startsWith("bufcached_cache_") && !line.contains("_bucket")
                        && !line.matches("bufcached_cache_\\w+_(low|high|max|limit|size)_bytes .*")) {
                    b.append(line).append('\n');
                }
            }
            return b.toString();
        } catch (IOException | InterruptedException | RuntimeException e) {
            return "<cannot scrape metrics: " + e + ">";
        }
    }

    /** A thread dump of the daemon's JVM via jcmd, for failure messages. */
    String threadDump() {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(javaProcess().pid()), "Thread.print")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(20, TimeUnit.SECONDS);
            return out;
        } catch (IOException | InterruptedException e) {
            return "<no thread dump: " + e + ">";
        }
    }

    static String java() {
        Path p = Path.of(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(p) ? p.toString() : "java";
    }

    static Path jar() {
        String explicit = System.getProperty("bufcached.jar");
        Path jar = explicit != null ? Path.of(explicit)
                : Path.of(System.getProperty("basedir", "."), "target", "bufcached.jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("daemon jar not found at " + jar.toAbsolutePath()
                    + " (run the package phase first, or pass -Dbufcached.jar=PATH)");
        }
        return jar.toAbsolutePath();
    }

    private void awaitReady(String cmd) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("daemon exited with " + process.exitValue() + " before it was ready: " + cmd
                        + "\n--- log ---\n" + log());
            }
            if (Files.exists(socket)) {
                try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    return;
                } catch (IOException notYet) {
                    // keep waiting
                }
            }
            if (System.nanoTime() > deadline) {
                kill();
                throw new AssertionError("daemon not ready after 60 s: " + cmd + "\n--- log ---\n" + log());
            }
            sleep(50);
        }
    }

    /** A connection in transmission on {@code export}. */
    RawClient open(String export, boolean structured) throws IOException {
        RawClient c = RawClient.connect(UnixDomainSocketAddress.of(socket)).handshake();
        if (structured) {
            c.structuredReplies();
        }
        return c.enter(export);
    }

    Path socket() {
        return socket;
    }

    Process process() {
        return process;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The java process itself: the direct child, or the wrapper's descendant running java. */
    ProcessHandle javaProcess() {
        return process.toHandle().descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java") || c.equals("java")).orElse(false))
                .findFirst().orElse(process.toHandle());
    }

    String log() {
        try {
            String s = Files.readString(log, StandardCharsets.UTF_8);
            return s.length() <= 8000 ? s : "...\n" + s.substring(s.length() - 8000);
        } catch (IOException e) {
            return "<cannot read " + log + ": " + e + ">";
        }
    }

    /** SIGKILL (the whole tree) and wait for it to be gone. */
    void kill() {
        closed = true;
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM to the java process, wait for the whole tree; returns the exit code of the direct child. */
    int terminate() {
        closed = true;
        ProcessHandle java = javaProcess();
        java.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                kill();
                throw new AssertionError("daemon did not stop within 60 s of SIGTERM\n--- log ---\n" + log());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (!closed) {
            kill();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
