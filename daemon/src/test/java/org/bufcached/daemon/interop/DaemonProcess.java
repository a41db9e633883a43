package org.bufcached.daemon.interop;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The daemon under test as a child process: {@code java -jar bufcached.jar} with the
 * test's own JVM, listening on a Unix socket in a temporary directory (and on
 * 127.0.0.1 with an ephemeral port when asked), its output in a log file. Closing
 * it sends SIGTERM and asserts the graceful exit code 0.
 *
 * <p>The jar is {@code -Dbufcached.jar=PATH} if set, else {@code target/bufcached.jar}
 * under the daemon module ({@code basedir}, which failsafe sets).
 */
final class DaemonProcess implements AutoCloseable {
    static final long MiB = 1L << 20;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    /** The daemon drains requests for up to 30 s before closing connections; allow for that. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(45);
    /** Daemons started by the running test, for {@link LogOnFailure}. */
    private static final List<DaemonProcess> STARTED = new CopyOnWriteArrayList<>();

    /** One export: its backing file is {@code DIR/exports/NAME.img}. */
    record ExportSpec(String name, long size, boolean readonly, String description) {
    }

    private final Process process;
    private final Path dir;
    private final Path log;
    private final Path socket;
    private final int tcpPort;
    private final int metricsPort;
    private final Map<String, ExportSpec> exports;
    private final Map<String, Path> files;
    private volatile String finalLog;
    private boolean closed;

    private DaemonProcess(Process process, Path dir, Path log, Path socket, int tcpPort, int metricsPort,
                          Map<String, ExportSpec> exports, Map<String, Path> files) {
        this.process = process;
        this.dir = dir;
        this.log = log;
        this.socket = socket;
        this.tcpPort = tcpPort;
        this.metricsPort = metricsPort;
        this.exports = exports;
        this.files = files;
    }

    static Builder builder(Path dir) {
        return new Builder(dir);
    }

    static final class Builder {
        private final Path dir;
        private final Map<String, ExportSpec> exports = new LinkedHashMap<>();
        private boolean tcp;
        private boolean noArguments;
        private int metricsPort = -1;

        private Builder(Path dir) {
            this.dir = dir;
        }

        Builder export(String name, long size) {
            return export(name, size, false, null);
        }

        /**
         * Adds an export; with a description every export goes into a YAML file
         * (the command line cannot describe exports), otherwise all of them go on
         * the command line as {@code --export}.
         */
        Builder export(String name, long size, boolean readonly, String description) {
            exports.put(name, new ExportSpec(name, size, readonly, description));
            return this;
        }

        /** Also listen on 127.0.0.1 with a free ephemeral port. */
        Builder tcp() {
            this.tcp = true;
            return this;
        }

        /** Serve /metrics on 127.0.0.1 with a free ephemeral port (off otherwise). */
        Builder metrics() throws IOException {
            this.metricsPort = freePort();
            return this;
        }

        /**
         * Run with no arguments at all in {@code dir}: the embedded default
         * (export demo = var/demo.img on 127.0.0.1:10809 and var/bufcached.sock).
         */
        Builder noArguments() {
            this.noArguments = true;
            return this;
        }

        DaemonProcess start() throws IOException {
            Files.createDirectories(dir);
            List<String> cmd = new ArrayList<>(List.of(javaExecutable(), "-jar", jar().toString()));
            Map<String, Path> files = new LinkedHashMap<>();
            Path socket;
            int port = -1;
            if (noArguments) {
                socket = dir.resolve("var/bufcached.sock");
                port = 10809;
                files.put("demo", dir.resolve("var/demo.img"));
            } else {
                socket = dir.resolve("bufcached.sock");
                Path exportDir = Files.createDirectories(dir.resolve("exports"));
                for (ExportSpec e : exports.values()) {
                    Path file = exportDir.resolve(e.name().isEmpty() ? "default.img" : e.name() + ".img");
                    files.put(e.name(), file);
                    if (e.readonly() && !Files.exists(file)) {
                        // size= does not create the file of a read-only export: the daemon opens it O_RDONLY
                        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                            raf.setLength(e.size());
                        }
                    }
                }
                Path config = dir.resolve("bufcached-it.yaml");
                Files.writeString(config, yaml(files), StandardCharsets.UTF_8);
                cmd.addAll(List.of("--config", config.toString(), "--unix", socket.toString()));
                if (tcp) {
                    port = freePort();
                    cmd.addAll(List.of("--tcp", "127.0.0.1:" + port));
                }
                if (!described()) {
                    for (ExportSpec e : exports.values()) {
                        cmd.add("--export");
                        cmd.add(e.name() + "=" + files.get(e.name()) + ",size=" + e.size()
                                + (e.readonly() ? ",readonly" : ""));
                    }
                }
            }
            Path log = dir.resolve("daemon.log");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            // A build run under systemd must not hand its sockets or notify socket to the daemon under test.
            List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
                    .forEach(pb.environment()::remove);
            Process p = pb.start();
            DaemonProcess d = new DaemonProcess(p, dir, log, socket, port, metricsPort, Map.copyOf(exports), files);
            STARTED.add(d);
            try {
                d.awaitReady(String.join(" ", cmd), noArguments || tcp);
            } catch (RuntimeException | Error e) {
                Tool.killTree(p.toHandle());
                d.closed = true;
                d.finalLog = d.log();
                throw e;
            }
            return d;
        }

        private boolean described() {
            return exports.values().stream().anyMatch(e -> e.description() != null);
        }

        /**
         * A configuration file: metrics off unless asked for (so that no test binds the
         * default metrics port), and the exports when some of them carry a description.
         */
        private String yaml(Map<String, Path> files) {
            StringBuilder y = new StringBuilder(metricsPort < 0 ? "metrics:\n  enabled: false\n"
                    : "metrics:\n  listen: 127.0.0.1:" + metricsPort + "\n");
            if (described()) {
                y.append("exports:\n");
                for (ExportSpec e : exports.values()) {
                    y.append("  - name: ").append(quote(e.name())).append('\n')
                            .append("    path: ").append(quote(files.get(e.name()).toString())).append('\n')
                            .append("    size: ").append(e.size()).append('\n')
                            .append("    readonly: ").append(e.readonly()).append('\n');
                    if (e.description() != null) {
                        y.append("    description: ").append(quote(e.description())).append('\n');
                    }
                }
            }
            return y.toString();
        }

        private static String quote(String s) {
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
    }

    /** The java of the running test. */
    static String javaExecutable() {
        Path fromHome = Path.of(System.getProperty("java.home"), "bin", "java");
        if (Files.isExecutable(fromHome)) {
            return fromHome.toString();
        }
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static Path jarCopy;

    /**
     * A private copy of the jar, taken once per test JVM, so that a rebuild of
     * target/ while the suite runs cannot swap it under a daemon being started.
     */
    static synchronized Path jar() {
        if (jarCopy != null) {
            return jarCopy;
        }
        String explicit = System.getProperty("bufcached.jar");
        Path jar = explicit != null ? Path.of(explicit)
                : Path.of(System.getProperty("basedir", "."), "target", "bufcached.jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("daemon jar not found at " + jar.toAbsolutePath()
                    + " (run the package phase first, or pass -Dbufcached.jar=PATH)");
        }
        try {
            Path copy = Files.createTempFile("bufcached-it-", ".jar");
            copy.toFile().deleteOnExit();
            Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            jarCopy = copy;
        } catch (IOException e) {
            throw new AssertionError("cannot copy " + jar + ": " + e, e);
        }
        return jarCopy;
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Whether something can bind 127.0.0.1:{@code port} right now. */
    static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void awaitReady(String cmd, boolean withTcp) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        boolean unixUp = false;
        boolean tcpUp = !withTcp;
        while (!(unixUp && tcpUp)) {
            if (!process.isAlive()) {
                throw new AssertionError("daemon exited with code " + process.exitValue() + " before it was ready: "
                        + cmd + "\n--- daemon log ---\n" + log());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("daemon not accepting on " + (unixUp ? "" : socket + " ")
                        + (tcpUp ? "" : "127.0.0.1:" + tcpPort) + " after " + READY_TIMEOUT.toSeconds() + " s: "
                        + cmd + "\n--- daemon log ---\n" + log());
            }
            unixUp = unixUp || acceptsUnix();
            tcpUp = tcpUp || acceptsTcp();
            if (!(unixUp && tcpUp)) {
                sleep(50);
            }
        }
    }

    private boolean acceptsUnix() {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private boolean acceptsTcp() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), tcpPort), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    Path socket() {
        return socket;
    }

    int tcpPort() {
        if (tcpPort < 0) {
            throw new IllegalStateException("daemon started without TCP");
        }
        return tcpPort;
    }

    /** The text of {@code /metrics}; the daemon must have been started with {@link Builder#metrics()}. */
    String scrape() throws IOException, InterruptedException {
        if (metricsPort < 0) {
            throw new IllegalStateException("daemon started without metrics");
        }
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + r.statusCode());
        }
        return r.body();
    }

    /** {@code nbd+unix:///NAME?socket=PATH}. */
    String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    /** {@code nbd://127.0.0.1:PORT/NAME}. */
    String tcpUri(String export) {
        return "nbd://127.0.0.1:" + tcpPort() + "/" + export;
    }

    /** The backing file of an export. */
    Path file(String export) {
        return Optional.ofNullable(files.get(export))
                .orElseThrow(() -> new IllegalArgumentException("no export " + export));
    }

    ExportSpec export(String name) {
        return exports.get(name);
    }

    Path dir() {
        return dir;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The daemon's output so far. */
    String log() {
        if (finalLog != null) {
            return finalLog;
        }
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<cannot read " + log + ": " + e + ">";
        }
    }

    /**
     * SIGTERM, then waits for the graceful stop and asserts exit code 0; kills the
     * process if it does not stop in time.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        process.destroy();
        boolean exited;
        try {
            exited = process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exited = false;
        }
        if (!exited) {
            Tool.killTree(process.toHandle());
            finalLog = log();
            throw new AssertionError("daemon did not stop within " + STOP_TIMEOUT.toSeconds()
                    + " s of SIGTERM; killed\n--- daemon log ---\n" + tail(finalLog));
        }
        finalLog = log();
        if (process.exitValue() != 0) {
            throw new AssertionError("daemon exited with code " + process.exitValue()
                    + " after SIGTERM, expected 0\n--- daemon log ---\n" + tail(finalLog));
        }
    }

    private static String tail(String s) {
        String[] lines = s.split("\n", -1);
        int from = Math.max(0, lines.length - 80);
        return (from > 0 ? "...\n" : "") + String.join("\n", java.util.Arrays.asList(lines).subList(from, lines.length));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Prints the logs of the daemons a failed test started (the temporary
     * directory holding them is gone by the time anyone looks), and kills any
     * daemon a test left running.
     */
    static final class LogOnFailure implements TestWatcher {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            for (DaemonProcess d : STARTED) {
                System.err.println("=== daemon log (pid " + d.pid() + ", " + context.getDisplayName() + ") ===");
                System.err.println(tail(d.log()));
            }
            reset();
        }

        @Override
        public void testSuccessful(ExtensionContext context) {
            reset();
        }

        @Override
        public void testAborted(ExtensionContext context, Throwable cause) {
            reset();
        }

        @Override
        public void testDisabled(ExtensionContext context, Optional<String> reason) {
            reset();
        }

        private static void reset() {
            for (DaemonProcess d : STARTED) {
                if (d.process.isAlive()) {
                    Tool.killTree(d.process.toHandle());
                }
            }
            STARTED.clear();
        }
    }

    @Override
    public String toString() {
        return "bufcached pid " + process.pid() + " in " + dir;
    }
}
