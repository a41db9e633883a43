package org.bufcached.client;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * An NBD server started by a test on a Unix socket in the test's temporary
 * directory and stopped by {@link #close()}. A missing tool or daemon jar skips the
 * test, with a message that names it.
 */
public final class TestServer implements AutoCloseable {
    /** The servers the client is tested against. File-backed kinds keep their image in {@link #file()}. */
    public enum Kind {
        NBDKIT_MEMORY(false), NBDKIT_FILE(true), QEMU_NBD(true), BUFCACHED(true);

        final boolean fileBacked;

        Kind(boolean fileBacked) {
            this.fileBacked = fileBacked;
        }
    }

    public static final Path DAEMON_JAR = Path.of("../daemon/target/bufcached.jar").toAbsolutePath().normalize();

    private final Process process;
    private final NbdUri uri;
    private final Path file;

    private TestServer(Process process, NbdUri uri, Path file) {
        this.process = process;
        this.uri = uri;
        this.file = file;
    }

    /** Starts {@code kind} with an export of {@code size} bytes (a new sparse file for file-backed kinds). */
    public static TestServer start(Kind kind, Path dir, long size) throws IOException, InterruptedException {
        Path file = null;
        if (kind.fileBacked) {
            file = dir.resolve("export-" + kind.name().toLowerCase() + ".img");
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(size);
            }
        }
        return start(kind, dir, size, file);
    }

    /** Starts {@code kind} serving {@code file} (ignored for the memory plugin); bufcached without metrics. */
    public static TestServer start(Kind kind, Path dir, long size, Path file) throws IOException, InterruptedException {
        return start(kind, dir, size, file, "off");
    }

    /** Starts bufcached serving {@code file} with its metrics endpoint on {@code metricsListen} (HOST:PORT). */
    public static TestServer bufcached(Path dir, Path file, String metricsListen) throws IOException, InterruptedException {
        return start(Kind.BUFCACHED, dir, 0, file, metricsListen);
    }

    /** Starts bufcached serving {@code file} as export "disk", with more command-line arguments such as --tls. */
    public static TestServer bufcached(Path dir, Path file, String metricsListen, String... args)
            throws IOException, InterruptedException {
        return start(Kind.BUFCACHED, dir, 0, file, metricsListen, args);
    }

    private static TestServer start(Kind kind, Path dir, long size, Path file, String metricsListen, String... args)
            throws IOException, InterruptedException {
        Path socket = dir.resolve(kind.name().toLowerCase() + ".sock");
        List<String> cmd = new ArrayList<>();
        String export = "";
        switch (kind) {
            case NBDKIT_MEMORY:
                requireTool("nbdkit");
                cmd.addAll(List.of("nbdkit", "-f", "-U", socket.toString(), "memory", Long.toString(size)));
                break;
            case NBDKIT_FILE:
                requireTool("nbdkit");
                cmd.addAll(List.of("nbdkit", "-f", "-U", socket.toString(), "file", file.toString()));
                break;
            case QEMU_NBD:
                requireTool("qemu-nbd");
                cmd.addAll(List.of("qemu-nbd", "-k", socket.toString(), "-f", "raw", "-t", "--shared=16",
                        "--cache=writeback", "--discard=unmap", file.toString()));
                break;
            case BUFCACHED:
                Assumptions.assumeTrue(Files.exists(DAEMON_JAR),
                        "bufcached daemon jar " + DAEMON_JAR + " does not exist (build the daemon module first)");
                export = "disk";
                cmd.addAll(List.of(javaBinary(), "-jar", DAEMON_JAR.toString(), "--unix", socket.toString(),
                        "--metrics", metricsListen, "--export", export + "=" + file));
                cmd.addAll(List.of(args));
                break;
            default:
                throw new IllegalArgumentException(kind.name());
        }
        return launch(cmd, socket, NbdUri.unix(socket.toString(), export), file);
    }

    /** Starts an arbitrary nbdkit command line; {@code args} follow {@code nbdkit -f -U SOCKET}. */
    public static TestServer nbdkit(Path dir, String... args) throws IOException, InterruptedException {
        requireTool("nbdkit");
        Path socket = dir.resolve("nbdkit-custom.sock");
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "-U", socket.toString()));
        cmd.addAll(List.of(args));
        return launch(cmd, socket, NbdUri.unix(socket.toString(), ""), null);
    }

    private static TestServer launch(List<String> cmd, Path socket, NbdUri uri, Path file)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(socket.resolveSibling(socket.getFileName() + ".log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException(cmd.get(0) + " exited with " + p.exitValue() + ": "
                        + Files.readString(socket.resolveSibling(socket.getFileName() + ".log")));
            }
            if (Files.exists(socket) && connectable(socket)) {
                return new TestServer(p, uri, file);
            }
            Thread.sleep(20);
        }
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not listen on " + socket + " in time");
    }

    private static boolean connectable(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static void requireTool(String tool) {
        Assumptions.assumeTrue(onPath(tool), tool + " is not installed: test skipped");
    }

    public static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public NbdUri uri() {
        return uri;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
