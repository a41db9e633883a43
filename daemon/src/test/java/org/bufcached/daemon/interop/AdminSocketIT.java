package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bufcached.client.cli.BufcacheMain;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.daemon.testing.Chunk;
import org.bufcached.daemon.testing.NbdWire;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin socket against a running daemon: every {@code bufcache admin}
 * subcommand; only the socket's owner can connect; malformed requests, unknown
 * exports, bitmaps, connections, paths and methods get a JSON error, change
 * nothing and leave the daemon serving.
 */
class AdminSocketIT {
    @TempDir
    Path dir;

    /** What one run of {@code bufcache admin} printed and returned. */
    private record Run(int code, String out, String err) {
    }

    private Run admin(DaemonProcess d, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("admin", "--socket", d.dir().resolve("admin.sock").toString()));
        all.addAll(List.of(args));
        int code = BufcacheMain.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute(all.toArray(new String[0]));
        return new Run(code, out.toString(), err.toString());
    }

    private DaemonProcess start() throws IOException {
        return DaemonProcess.builder(dir).export("d", 16 * DaemonProcess.MiB, false, "admin test")
                .args("--admin-socket", dir.resolve("admin.sock").toString()).start();
    }

    @Test
    void everySubcommandWorksAndIsLoggedWithWhoAsked() throws Exception {
        try (DaemonProcess d = start()) {
            assertThat(Files.getPosixFilePermissions(dir.resolve("admin.sock")))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(admin(d, "exports").out()).containsPattern("d +serving +yes +0 +0 +-");

            assertThat(admin(d, "bitmap", "add", "d", "b", "--granularity", "4K").out())
                    .contains("added bitmap b to export d (context qemu:dirty-bitmap:b, granularity 4096)");
            Path file = ExportBitmaps.fileOf(d.file("d"), "b");
            assertThat(file).exists();
            try (RawClient c = d.open("d", true)) {
                Run connections = admin(d, "connections");
                assertThat(connections.out()).containsPattern("unix:pid=" + ProcessHandle.current().pid()
                        + ",uid=\\d+ +d ");
                String id = connections.out().lines().skip(1).findFirst().orElseThrow().strip().split(" +")[0];
                assertThat(admin(d, "--json", "exports").out()).contains("\"connections\" : 1")
                        .contains("\"name\" : \"b\"");
                assertThat(admin(d, "close", id).out()).contains("closed connection " + id);
                c.assertClosedWithin(Duration.ofSeconds(5));
            }
            assertThat(admin(d, "bitmap", "clear", "d", "b").code()).isZero();
            assertThat(admin(d, "bitmap", "remove", "d", "b").out()).contains("removed bitmap b of export d");
            assertThat(file).doesNotExist();
            assertThat(admin(d, "reload").out()).contains("reload unchanged");

            Path config = dir.resolve("bufcached-it.yaml");
            String good = Files.readString(config);
            Files.writeString(config, good + "cache:\n  sise: 1G\n");
            Run rejected = admin(d, "reload");
            assertThat(rejected.code()).isEqualTo(1);
            assertThat(rejected.out()).contains("reload rejected").contains("unknown key 'sise' (did you mean 'size'?)");
            Files.writeString(config, good);

            assertThat(d.log()).containsPattern("admin request peer=unix:pid=\\d+,uid=\\d+ method=POST "
                    + "path=/v1/exports/d/bitmaps status=201 result=added bitmap 'b'")
                    .contains("path=/v1/reload status=200 result=reload rejected");
        }
    }

    @Test
    void badRequestsGetJsonErrorsAndChangeNothing() throws Exception {
        try (DaemonProcess d = start()) {
            assertThat(http(d, "POST", "/v1/exports/d/bitmaps", "{\"name\":"))
                    .startsWith("HTTP/1.1 400").contains("\"error\" : \"malformed JSON: ");
            assertThat(http(d, "POST", "/v1/exports/d/bitmaps", "[1]")).startsWith("HTTP/1.1 400")
                    .contains("expected {\\\"name\\\": \\\"B\\\", \\\"granularity\\\": 65536}");
            assertThat(http(d, "POST", "/v1/exports/d/bitmaps", "{\"name\":\"x\",\"granularity\":3000}"))
                    .startsWith("HTTP/1.1 400").contains("granularity must be a power of two");
            assertThat(http(d, "POST", "/v1/exports/d/bitmaps", "{\"name\":\"../x\"}"))
                    .startsWith("HTTP/1.1 400").contains("bitmap name");
            assertThat(http(d, "GET", "/v1/nothing", "")).startsWith("HTTP/1.1 404");
            assertThat(http(d, "PUT", "/v1/exports", "")).startsWith("HTTP/1.1 405");
            assertThat(http(d, "DELETE", "/v1/connections/x", "")).startsWith("HTTP/1.1 400");

            Run unknownExport = admin(d, "bitmap", "add", "zz", "b");
            assertThat(unknownExport.code()).isEqualTo(1);
            assertThat(unknownExport.err()).contains("bufcache: admin: no export 'zz'");
            assertThat(admin(d, "bitmap", "clear", "d", "nope").err()).contains("export 'd' has no bitmap 'nope'");
            assertThat(admin(d, "bitmap", "remove", "zz", "b").err()).contains("no export 'zz'");
            assertThat(admin(d, "close", "987654").err()).contains("no open connection 987654");
            admin(d, "bitmap", "add", "d", "b");
            assertThat(admin(d, "bitmap", "add", "d", "b").err()).contains("export 'd' already has a bitmap 'b'");

            try (var files = Files.list(dir.resolve("exports"))) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("d.img",
                        ".d.img.bitmap-b");
            }
            assertThat(admin(d, "exports").out()).contains("b (0)");
            assertThat(d.log()).contains("admin request refused peer=unix:pid=");
        }
    }

    @Test
    void blockStatusAnswersEverySelectedContextAndARemovedBitmapIsAnError() throws Exception {
        try (DaemonProcess d = start()) {
            admin(d, "bitmap", "add", "d", "b");
            try (RawClient c = RawClient.connect(UnixDomainSocketAddress.of(d.socket())).handshake()
                    .structuredReplies()) {
                List<OptionReply> set = c.option(NbdWire.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("d",
                        "qemu:dirty-bitmap:b", "base:allocation", "qemu:dirty-bitmap:", "qemu:dirty-bitmap:nope"));
                assertThat(set).extracting(OptionReply::type).containsExactly(NbdWire.REP_META_CONTEXT,
                        NbdWire.REP_META_CONTEXT, NbdWire.REP_ACK);
                c.enter("d");
                c.write(70000, new byte[100]).assertOk();
                Reply status = c.request(NbdWire.CMD_BLOCK_STATUS, 0, 0, 4 * 65536).assertOk();
                List<Chunk> chunks = status.chunks();
                assertThat(chunks).hasSize(2).allMatch(chunk -> chunk.type() == NbdWire.REPLY_TYPE_BLOCK_STATUS);
                assertThat(chunks.get(1).done()).isTrue();
                ByteBuffer bitmap = ByteBuffer.wrap(chunks.get(0).payload());
                bitmap.getInt(); // its context id
                assertThat(new long[] {bitmap.getInt(), bitmap.getInt(), bitmap.getInt(), bitmap.getInt(),
                        bitmap.getInt(), bitmap.getInt()}).containsExactly(65536, 0, 65536, 1, 2 * 65536, 0);

                admin(d, "bitmap", "remove", "d", "b");
                Reply removed = c.request(NbdWire.CMD_BLOCK_STATUS, 0, 0, 65536).assertError(NbdWire.EINVAL);
                assertThat(removed.errorMessage()).isEqualTo("dirty bitmap 'b' was removed");
                c.read(0, 512).assertOk();
            }
        }
    }

    @Test
    void onlyTheOwnerCanConnect() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run a client as another user");
        Tool.require("setpriv", "util-linux");
        Path client = Path.of(System.getProperty("user.dir")).resolve("../client/target/bufcache.jar").normalize();
        assumeTrue(Files.exists(client), client + " is not built");
        try (DaemonProcess d = start()) {
            // Every directory up to the socket is searchable: only the socket's own mode keeps others out.
            for (Path p = dir; p != null && !p.equals(p.getRoot()); p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            Tool.Result other = Tool.run(Duration.ofSeconds(60), "setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", DaemonProcess.javaExecutable(), "-jar", client.toString(), "admin",
                    "--socket", dir.resolve("admin.sock").toString(), "exports");
            assertThat(other.exitCode()).isEqualTo(1);
            assertThat(other.stderr()).contains("permission denied on " + dir.resolve("admin.sock"));
            assertThat(admin(d, "exports").code()).isZero();
        }
    }

    /** A raw HTTP request over the admin socket; the daemon answers and closes. */
    private static String http(DaemonProcess d, String method, String path, String body) throws IOException {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + content.length + "\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(d.dir().resolve("admin.sock")));
            ch.write(ByteBuffer.wrap((head + body).getBytes(StandardCharsets.UTF_8)));
            StringBuilder reply = new StringBuilder();
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (ch.read(in.clear()) >= 0) {
                reply.append(new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
            }
            return reply.toString();
        }
    }
}
