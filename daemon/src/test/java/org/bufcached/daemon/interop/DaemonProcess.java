package org.bufcached.daemon.interop;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
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
 * under the daemon module ({@code basedir}, which failsafe sets). The I/O engine is
 * {@code -Dbufcached.test.engine=NAME} if set (the build runs the integration tests
 * once per engine), else the daemon's default, unless a test asks for one.
 *
 * <p>The one harness of every test that runs the daemon as a process: the interop
 * suite, the durability, liveness and stress tests.
 */
public final class DaemonProcess implements AutoCloseable {
    public static final long MiB = 1L << 20;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    /** The daemon drains requests for up to 30 s before closing connections; allow for that. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(45);
    /** Daemons started by the running test, for {@link LogOnFailure}. */
    private static final List<DaemonProcess> STARTED = new CopyOnWriteArrayList<>();

    /** One export: its backing file is {@code DIR/exports/NAME.img}. */
    public record ExportSpec(String name, long size, boolean readonly, String description) {
    }

    private final Process process;
    private final Path dir;
    private final Path log;
    private final Path socket;
    private final int tcpPort;
    /** 0 when the metrics endpoint is off. */
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

    public static Builder builder(Path dir) {
        return new Builder(dir);
    }

    public static final class Builder {
        private final Path dir;
        private final Map<String, ExportSpec> exports = new LinkedHashMap<>();
        private final List<String> wrapper = new ArrayList<>();
        private final List<String> jvmOptions = new ArrayList<>();
        /** More YAML keys for an export, indented as its other keys; such exports go into the file. */
        private final Map<String, String> exportYaml = new LinkedHashMap<>();
        private final List<String> arguments = new ArrayList<>();
        private boolean tcp;
        private boolean noArguments;
        private String yaml = "";
        private int metricsPort;
        private String engine = System.getProperty("bufcached.test.engine", "");

        private Builder(Path dir) {
            this.dir = dir;
        }

        /** YAML appended to the generated configuration file (a cache or limits section, more exports). */
        public Builder yaml(String text) {
            this.yaml = text;
            return this;
        }

        /** More keys of export {@code name} in YAML, such as {@code "    tls: require\n"}. */
        public Builder exportYaml(String name, String yaml) {
            exportYaml.put(name, yaml);
            return this;
        }

        /** More command-line arguments, after the others. */
        public Builder args(String... args) {
            arguments.addAll(List.of(args));
            return this;
        }

        /** Runs the JVM under a wrapper command, e.g. strace. */
        public Builder wrapper(String... command) {
            wrapper.addAll(List.of(command));
            return this;
        }

        /** JVM options before -jar (heap, ActiveProcessorCount...). */
        public Builder jvm(String... options) {
            jvmOptions.addAll(List.of(options));
            return this;
        }

        /** Serves the metrics endpoint on 127.0.0.1:{@code port} (off otherwise). */
        public Builder metrics(int port) {
            this.metricsPort = port;
            return this;
        }

        /** The I/O engine ({@code io_uring}, {@code epoll}...), whatever the build asks for. */
        public Builder engine(String name) {
            this.engine = name;
            return this;
        }

        public Builder export(String name, long size) {
            return export(name, size, false, null);
        }

        /**
         * Adds an export; with a description every export goes into a YAML file
         * (the command line cannot describe exports), otherwise all of them go on
         * the command line as {@code --export}.
         */
        public Builder export(String name, long size, boolean readonly, String description) {
            exports.put(name, new ExportSpec(name, size, readonly, description));
            return this;
        }

        /** Also listen on 127.0.0.1 with a free ephemeral port. */
        public Builder tcp() {
            this.tcp = true;
            return this;
        }

        /**
         * Run with no arguments at all in {@code dir}: the embedded default
         * (export demo = var/demo.img on 127.0.0.1:10809 and var/bufcached.sock).
         */
        public Builder noArguments() {
            this.noArguments = true;
            return this;
        }

        public DaemonProcess start() throws IOException {
            Files.createDirectories(dir);
            List<String> cmd = new ArrayList<>(wrapper);
            cmd.add(javaExecutable());
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-jar", jar().toString()));
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
                if (!engine.isEmpty()) {
                    cmd.addAll(List.of("--io-engine", engine));
                }
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
                cmd.addAll(arguments);
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

        /** Whether the exports must go into the file: the command line has no description or TLS keys. */
        private boolean described() {
            return !exportYaml.isEmpty() || exports.values().stream().anyMatch(e -> e.description() != null);
        }

        /**
         * A configuration file: metrics off (so that no test binds the metrics port),
         * and the exports when some of them carry a description or YAML keys of their own.
         */
        private String yaml(Map<String, Path> files) {
            StringBuilder y = new StringBuilder(metricsPort == 0 ? "metrics:\n  enabled: false\n"
                    : "metrics:\n  enabled: true\n  listen: 127.0.0.1:" + metricsPort + "\n");
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
                    y.append(exportYaml.getOrDefault(e.name(), ""));
                }
            }
            return y.append(yaml).toString();
        }

        private static String quote(String s) {
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
    }

    /** The java of the running test. */
    public static String javaExecutable() {
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
    public static synchronized Path jar() {
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
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Whether something can bind 127.0.0.1:{@code port} right now. */
    public static boolean portFree(int port) {
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
            return greets(ch);
        } catch (IOException e) {
            return false;
        }
    }

    private boolean acceptsTcp() {
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), tcpPort))) {
            return greets(ch);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether the daemon answers with the NBD greeting within a second. A socket
     * that takes connections is not enough: the daemon binds its sockets before it
     * sets up the cache and the exports, and accepts only once they are open.
     */
    private static boolean greets(SocketChannel ch) throws IOException {
        ch.configureBlocking(false);
        ByteBuffer magic = ByteBuffer.allocate(8);
        try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
            ch.register(selector, java.nio.channels.SelectionKey.OP_READ);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (magic.hasRemaining() && System.nanoTime() < deadline) {
                selector.select(100);
                if (ch.read(magic) < 0) {
                    return false;
                }
            }
        }
        return !magic.hasRemaining() && new String(magic.array(), StandardCharsets.US_ASCII).equals("NBDMAGIC");
    }

    public Path socket() {
        return socket;
    }

    public int tcpPort() {
        if (tcpPort < 0) {
            throw new IllegalStateException("daemon started without TCP");
        }
        return tcpPort;
    }

    /**
     * The sum of the samples of metric {@code name} whose labels include every one of
     * {@code labels} (each written {@code key="value"}), scraped now; 0 if none.
     */
    public double metric(String name, String... labels) throws IOException, InterruptedException {
        if (metricsPort == 0) {
            throw new IllegalStateException("daemon started without metrics");
        }
        HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        double sum = 0;
        for (String line : scrape.body().split("\n")) {
            if (!(line.startsWith(name + "{") || line.startsWith(name + " "))) {
                continue;
            }
            String series = line.substring(0, line.lastIndexOf(' '));
            if (java.util.Arrays.stream(labels).allMatch(series::contains)) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** {@code nbd+unix:///NAME?socket=PATH}. */
    public String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    /** {@code nbd://127.0.0.1:PORT/NAME}. */
    public String tcpUri(String export) {
        return "nbd://127.0.0.1:" + tcpPort() + "/" + export;
    }

    /** The backing file of an export. */
    public Path file(String export) {
        return Optional.ofNullable(files.get(export))
                .orElseThrow(() -> new IllegalArgumentException("no export " + export));
    }

    public ExportSpec export(String name) {
        return exports.get(name);
    }

    public Path dir() {
        return dir;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for a line containing {@code text} in the daemon's log; fails after {@link #READY_TIMEOUT}. */
    void awaitLog(String text) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (!log().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no log line containing \"" + text + "\" within "
                        + READY_TIMEOUT.toSeconds() + " s\n--- daemon log ---\n" + tail(log()));
            }
            sleep(20);
        }
    }

    /** The daemon's output so far. */
    public String log() {
        if (finalLog != null) {
            return finalLog;
        }
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<cannot read " + log + ": " + e + ">";
        }
    }

    /** A connection in transmission on {@code export}, over the Unix socket. */
    public org.bufcached.daemon.testing.RawClient open(String export, boolean structured) throws IOException {
        org.bufcached.daemon.testing.RawClient c = org.bufcached.daemon.testing.RawClient
                .connect(UnixDomainSocketAddress.of(socket)).handshake();
        if (structured) {
            c.structuredReplies();
        }
        return c.enter(export);
    }

    /** The java process itself: the direct child, or the wrapper's descendant running java. */
    public ProcessHandle javaProcess() {
        return process.toHandle().descendants()
                .filter(h -> h.info().command().map(c -> c.endsWith("/java") || c.equals("java")).orElse(false))
                .findFirst().orElse(process.toHandle());
    }

    /** SIGKILL to the whole tree (a crash), and waits for it to be gone. */
    public void kill() {
        closed = true;
        Tool.killTree(process.toHandle());
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        finalLog = log();
    }

    /**
     * SIGTERM to the java process; waits up to {@code timeout} for the whole tree
     * and returns the exit code, or -1 (after killing it) when it did not stop.
     */
    public int terminate(Duration timeout) {
        closed = true;
        javaProcess().destroy();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                Tool.killTree(process.toHandle());
                finalLog = log();
                return -1;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        finalLog = log();
        return process.exitValue();
    }

    /** A thread dump of the daemon's JVM (jcmd), for failure messages. */
    public String threadDump() {
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

    /** The metrics endpoint's text, when started with {@link Builder#metrics}. */
    public String scrape(int port) throws IOException, InterruptedException {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    /** The value of the first sample of {@code name} (with any labels), or -1. */
    public static double sample(String metrics, String name) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
            }
        }
        return -1;
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
    public static final class LogOnFailure implements TestWatcher {
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
