package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bufcached.client.NbdClient;
import org.bufcached.client.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bufcache admin} against bufcached ({@link TestServer.Kind#BUFCACHED}, with
 * {@code --admin-socket}): what every subcommand prints, with and without
 * {@code --json}, and its exit code; the daemon's refusals printed as one line
 * with exit 1; usage errors with exit 2; a socket that is missing, stale or not
 * the caller's named with the reason.
 */
class AdminCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path socket() {
        return dir.resolve("admin.sock");
    }

    /** bufcached serving a 16 MiB "disk" with the admin socket, once it serves. */
    private TestServer start() throws Exception {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        Path config = Files.writeString(dir.resolve("bufcached.yaml"), "metrics:\n  enabled: false\n");
        TestServer server = TestServer.bufcached(dir, file, "off", "--config", config.toString(),
                "--admin-socket", socket().toString());
        try {
            // The NBD socket takes connections once bound; a handshake waits until the exports are open.
            NbdClient.info(server.uri()).get(20, TimeUnit.SECONDS);
            return server;
        } catch (Exception e) {
            server.close();
            throw e;
        }
    }

    private CliTest.Run admin(String... args) {
        List<String> all = new ArrayList<>(List.of("admin", "--socket", socket().toString()));
        all.addAll(List.of(args));
        return CliTest.run(all.toArray(new String[0]));
    }

    /** {@code admin ARGS}, after failing the test unless it exited 0 with nothing on stderr. */
    private String ok(String... args) {
        CliTest.Run run = admin(args);
        assertThat(run.code()).as(String.join(" ", args) + ": " + run.err()).isZero();
        assertThat(run.err()).isEmpty();
        return run.out();
    }

    /** How the daemon names this JVM as a peer on a unix socket (SO_PEERCRED). */
    private static String me() throws IOException {
        return "unix:pid=" + ProcessHandle.current().pid() + ",uid="
                + Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    @Test
    void everySubcommandPrintsItsResult() throws Exception {
        try (TestServer server = start()) {
            assertThat(ok("exports")).startsWith(String.format("%-16s %-9s %-8s %5s %12s  %s%n", "EXPORT", "STATE",
                    "DURABLE", "CONNS", "DIRTY", "BITMAPS (dirty bytes)"))
                    .containsPattern("(?m)^disk +serving +yes +0 +0  -$");
            assertThat(ok("bitmap", "add", "disk", "b", "--granularity", "4K")).isEqualTo("added bitmap b to export "
                    + "disk (context qemu:dirty-bitmap:b, granularity 4096)" + System.lineSeparator());
            assertThat(dir.resolve(".disk.img.bitmap-b")).exists();

            try (NbdClient client = NbdClient.connect(server.uri()).get(10, TimeUnit.SECONDS)) {
                client.write(70000, Unpooled.wrappedBuffer(new byte[100]), false).get(10, TimeUnit.SECONDS);
                assertThat(ok("exports")).as("one 4 KiB granule written")
                        .containsPattern("(?m)^disk +serving +yes +1 +\\d+  b \\(4096\\)$");
                JsonNode exports = JSON.readTree(ok("--json", "exports"));
                assertThat(exports.at("/exports/0/connections").asInt()).isEqualTo(1);
                assertThat(exports.at("/exports/0/bitmaps/0/context").asText()).isEqualTo("qemu:dirty-bitmap:b");
                assertThat(exports.at("/exports/0/bitmaps/0/dirty_bytes").asLong()).isEqualTo(4096);

                String connections = ok("connections");
                assertThat(connections).startsWith(String.format("%6s %-28s %-16s %-20s %12s %12s %9s %8s%n", "ID",
                        "PEER", "EXPORT", "TLS", "BYTES_IN", "BYTES_OUT", "REQUESTS", "AGE_S"));
                Matcher row = Pattern.compile("(?m)^ *(\\d+) " + Pattern.quote(me())
                        + " +disk +- +\\d+ +\\d+ +\\d+ +\\d+\\.\\d$").matcher(connections);
                assertThat(row.find()).as(connections).isTrue();
                String id = row.group(1);
                JsonNode listed = JSON.readTree(ok("--json", "connections"));
                assertThat(listed.at("/connections/0/id").asText()).isEqualTo(id);
                assertThat(listed.at("/connections/0/peer").asText()).isEqualTo(me());

                assertThat(ok("close", id)).isEqualTo("closed connection " + id + System.lineSeparator());
                client.closeFuture().get(5, TimeUnit.SECONDS);
            }
            assertThat(ok("bitmap", "clear", "disk", "b")).isEqualTo("cleared bitmap b of export disk"
                    + System.lineSeparator());
            assertThat(ok("exports")).containsPattern("(?m)^disk .* b \\(0\\)$");
            assertThat(ok("bitmap", "remove", "disk", "b")).isEqualTo("removed bitmap b of export disk"
                    + System.lineSeparator());
            assertThat(ok("exports")).containsPattern("(?m)^disk .*  -$");
            assertThat(dir.resolve(".disk.img.bitmap-b")).doesNotExist();
        }
    }

    @Test
    void reloadPrintsTheResultAndExitsOneWhenRejected() throws Exception {
        try (TestServer server = start()) {
            assertThat(ok("reload")).isEqualTo("reload unchanged" + System.lineSeparator());
            assertThat(JSON.readTree(ok("--json", "reload")).path("result").asText()).isEqualTo("unchanged");

            Path config = dir.resolve("bufcached.yaml");
            String good = Files.readString(config);
            Files.writeString(config, good + "cache:\n  sise: 1G\n");
            CliTest.Run rejected = admin("reload");
            assertThat(rejected.code()).isEqualTo(1);
            assertThat(rejected.out()).startsWith("reload rejected" + System.lineSeparator())
                    .containsPattern("(?m)^  .*unknown key 'sise' \\(did you mean 'size'\\?\\)$");
            Files.writeString(config, good);
            assertThat(ok("reload")).isEqualTo("reload unchanged" + System.lineSeparator());
        }
    }

    @Test
    void refusalsPrintTheDaemonsErrorAndExitOne() throws Exception {
        try (TestServer server = start()) {
            assertRefused(admin("bitmap", "add", "zz", "b"), "no export 'zz'");
            assertRefused(admin("bitmap", "clear", "disk", "nope"), "export 'disk' has no bitmap 'nope'");
            assertRefused(admin("bitmap", "remove", "zz", "b"), "no export 'zz'");
            assertRefused(admin("bitmap", "remove", "disk", "nope"), "export 'disk' has no bitmap 'nope'");
            assertRefused(admin("close", "987654"), "no open connection 987654");
            CliTest.Run granularity = admin("bitmap", "add", "disk", "x", "--granularity", "3000");
            assertThat(granularity.code()).isEqualTo(1);
            assertThat(granularity.err()).startsWith("bufcache: admin: granularity must be a power of two")
                    .endsWith(", got 3000" + System.lineSeparator());
            ok("bitmap", "add", "disk", "b");
            assertRefused(admin("bitmap", "add", "disk", "b"), "export 'disk' already has a bitmap 'b'");
            assertRefused(admin("--json", "bitmap", "add", "disk", "b"), "export 'disk' already has a bitmap 'b'");
            assertThat(ok("exports")).as("only the one bitmap added")
                    .containsPattern("(?m)^disk +serving +yes +0 +0  b \\(0\\)$");
        }
    }

    private static void assertRefused(CliTest.Run run, String error) {
        assertThat(run.code()).as(run.err()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("bufcache: admin: " + error + System.lineSeparator());
    }

    @Test
    void usageErrorsExitWithTwo() {
        CliTest.Run none = admin();
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).startsWith("bufcache: missing subcommand");
        CliTest.Run bitmap = admin("bitmap");
        assertThat(bitmap.code()).isEqualTo(2);
        assertThat(bitmap.err()).startsWith("bufcache: missing subcommand: add, clear or remove");
        assertThat(admin("bitmap", "add", "disk").code()).isEqualTo(2);
        assertThat(admin("close").code()).isEqualTo(2);
        assertThat(admin("exports", "extra").code()).isEqualTo(2);
        CliTest.Run help = CliTest.run("admin", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("Usage: bufcache admin").contains("Examples:")
                .contains("bufcache admin bitmap add disk backup --granularity 64K");
    }

    @Test
    void aMissingOrStaleSocketIsNamedWithTheReason() throws Exception {
        CliTest.Run missing = admin("exports");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("bufcache: no admin socket at " + socket()
                + " (is bufcached running with admin.path set? --socket PATH)" + System.lineSeparator());
        // A socket file that nothing listens on any more, as a daemon killed with SIGKILL leaves.
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(socket()));
        }
        CliTest.Run stale = admin("exports");
        assertThat(stale.code()).isEqualTo(1);
        assertThat(stale.err()).isEqualTo("bufcache: connection refused on " + socket()
                + " (a stale socket: is bufcached running?)" + System.lineSeparator());
    }

    @Test
    void anotherUserIsToldPermissionDenied() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run bufcache as another user");
        TestServer.requireTool("setpriv");
        try (TestServer server = start()) {
            // Every directory up to the socket is searchable: only the socket's own mode keeps others out.
            for (Path p = dir; p != null && !p.equals(p.getRoot()); p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Process other = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData",
                    "-cp", readableClassPath(), BufcacheMain.class.getName(), "admin", "--socket",
                    socket().toString(), "exports").redirectOutput(dir.resolve("other.out").toFile())
                    .redirectError(dir.resolve("other.err").toFile()).start();
            assertThat(other.waitFor(60, TimeUnit.SECONDS)).as("bufcache as uid 65534 finished").isTrue();
            String err = Files.readString(dir.resolve("other.err"));
            assertThat(other.exitValue()).as(err).isEqualTo(1);
            assertThat(err).isEqualTo("bufcache: permission denied on " + socket() + " (the admin socket is for the "
                    + "daemon's user: run as that user or root, or set admin.mode)" + System.lineSeparator());
            assertThat(ok("exports")).contains("disk");
        }
    }

    /**
     * This test's class path, copied where another user can read it (the local
     * Maven repository usually is the owner's only).
     */
    private String readableClassPath() throws IOException {
        Path copy = Files.createDirectory(dir.resolve("classpath"));
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = copy.resolve(entries.size() + "-" + from.getFileName());
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.copy(f, to.resolve(from.relativize(f).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
            entries.add(to.toString());
        }
        try (Stream<Path> all = Files.walk(copy)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x"
                        : "rw-r--r--"));
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
