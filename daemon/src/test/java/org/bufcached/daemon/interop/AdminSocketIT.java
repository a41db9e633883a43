package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.bufcached.daemon.bitmap.ExportBitmaps;
import org.bufcached.daemon.testing.AdminSocket;
import org.bufcached.daemon.testing.Chunk;
import org.bufcached.daemon.testing.NbdWire;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API over the admin socket of a running daemon, request by request
 * (the client module tests {@code bufcache admin} on top of it): every action
 * works and is logged with who asked; only the socket's owner can connect;
 * malformed requests, unknown exports, bitmaps, connections, paths and methods
 * get a JSON error, change nothing and leave the daemon serving.
 */
class AdminSocketIT {
    private static final String BITMAPS = "/v1/exports/d/bitmaps";
    /** Python that connects to the AF_UNIX socket argv[1] and asks for the exports: exit 3 if refused. */
    private static final String CONNECT = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "try:",
            "    s.connect(sys.argv[1])",
            "except PermissionError as e:",
            "    print('refused:', e.strerror)",
            "    sys.exit(3)",
            "s.sendall(b'GET /v1/exports HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')",
            "reply = b''",
            "while chunk := s.recv(8192):",
            "    reply += chunk",
            "print(reply.decode().split('\\r\\n')[0])");

    @TempDir
    Path dir;

    private DaemonProcess start() throws IOException {
        return DaemonProcess.builder(dir).export("d", 16 * DaemonProcess.MiB, false, "admin test")
                .args("--admin-socket", dir.resolve("admin.sock").toString()).start();
    }

    private AdminSocket admin() {
        return new AdminSocket(dir.resolve("admin.sock"));
    }

    /** How the daemon names this JVM as a peer on a unix socket (SO_PEERCRED). */
    private static String me() throws IOException {
        return "unix:pid=" + ProcessHandle.current().pid() + ",uid="
                + Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** The one export the daemon has, as GET /v1/exports lists it. */
    private static JsonNode onlyExport(AdminSocket admin) throws IOException {
        JsonNode exports = admin.get("/v1/exports").expect(200).body().path("exports");
        assertThat(exports).hasSize(1);
        return exports.get(0);
    }

    @Test
    void everyActionWorksAndIsLoggedWithWhoAsked() throws Exception {
        try (DaemonProcess d = start()) {
            assertThat(Files.getPosixFilePermissions(dir.resolve("admin.sock")))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            AdminSocket admin = admin();
            JsonNode export = onlyExport(admin);
            assertThat(export.path("name").asText()).isEqualTo("d");
            assertThat(export.path("path").asText()).isEqualTo(d.file("d").toString());
            assertThat(export.path("size").asLong()).isEqualTo(16 * DaemonProcess.MiB);
            assertThat(export.path("readonly").asBoolean(true)).isFalse();
            assertThat(export.path("state").asText()).isEqualTo("serving");
            assertThat(export.path("durable").asBoolean()).isTrue();
            assertThat(export.path("connections").asInt(-1)).isZero();
            assertThat(export.path("bitmaps")).isEmpty();

            JsonNode added = admin.post(BITMAPS, "{\"name\": \"b\", \"granularity\": 4096}").expect(201).body();
            Path file = ExportBitmaps.fileOf(d.file("d"), "b");
            assertThat(added.path("context").asText()).isEqualTo("qemu:dirty-bitmap:b");
            assertThat(added.path("granularity").asLong()).isEqualTo(4096);
            assertThat(added.path("dirty_bytes").asLong(-1)).isZero();
            assertThat(added.path("file").asText()).isEqualTo(file.toString());
            assertThat(file).exists();

            long id;
            try (RawClient c = d.open("d", true)) {
                c.write(70000, new byte[100]).assertOk();
                JsonNode connections = admin.get("/v1/connections").expect(200).body().path("connections");
                assertThat(connections).hasSize(1);
                JsonNode connection = connections.get(0);
                assertThat(connection.path("peer").asText()).isEqualTo(me());
                assertThat(connection.path("export").asText()).isEqualTo("d");
                assertThat(connection.path("requests").asLong()).isPositive();
                export = onlyExport(admin);
                assertThat(export.path("connections").asInt()).isEqualTo(1);
                assertThat(export.path("bitmaps").get(0).path("dirty_bytes").asLong())
                        .as("the write's one 4 KiB granule").isEqualTo(4096);

                id = connection.path("id").asLong();
                assertThat(admin.delete("/v1/connections/" + id).expect(200).body().path("closed").asLong())
                        .isEqualTo(id);
                c.assertClosedWithin(Duration.ofSeconds(5));
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> admin.get("/v1/connections").expect(200).body().path("connections").isEmpty());

            assertThat(admin.post(BITMAPS + "/b/clear", "").expect(200).body().path("dirty_bytes").asLong(-1)).isZero();
            assertThat(onlyExport(admin).path("bitmaps").get(0).path("dirty_bytes").asLong(-1)).isZero();
            assertThat(admin.delete(BITMAPS + "/b").expect(200).body().path("removed").asText()).isEqualTo("b");
            assertThat(file).doesNotExist();
            assertThat(onlyExport(admin).path("bitmaps")).isEmpty();

            JsonNode unchanged = admin.post("/v1/reload", "").expect(200).body();
            assertThat(unchanged.path("result").asText()).isEqualTo("unchanged");
            assertThat(unchanged.path("problems")).isEmpty();
            Path config = dir.resolve("bufcached-it.yaml");
            String good = Files.readString(config);
            Files.writeString(config, good + "cache:\n  sise: 1G\n");
            JsonNode rejected = admin.post("/v1/reload", "").expect(200).body();
            assertThat(rejected.path("result").asText()).isEqualTo("rejected");
            assertThat(rejected.path("problems").toString()).contains("unknown key 'sise' (did you mean 'size'?)");
            Files.writeString(config, good);

            assertThat(d.log()).contains("admin request peer=" + me() + " method=GET path=/v1/exports status=200 "
                            + "result=1 exports")
                    .contains("admin request peer=" + me() + " method=POST path=/v1/exports/d/bitmaps status=201 "
                            + "result=added bitmap 'b' (granularity 4096) to export 'd'")
                    .contains("method=DELETE path=/v1/connections/" + id + " status=200 result=closed connection conn="
                            + id)
                    .contains("method=POST path=/v1/exports/d/bitmaps/b/clear status=200 result=cleared bitmap 'b'")
                    .contains("method=DELETE path=/v1/exports/d/bitmaps/b status=200 result=removed bitmap 'b'")
                    .contains("method=POST path=/v1/reload status=200 result=reload unchanged")
                    .contains("method=POST path=/v1/reload status=200 result=reload rejected");
        }
    }

    @Test
    void badRequestsGetJsonErrorsAndChangeNothing() throws Exception {
        try (DaemonProcess d = start()) {
            AdminSocket admin = admin();
            assertThat(admin.post(BITMAPS, "{\"name\":").expect(400).error()).startsWith("malformed JSON: ");
            assertThat(admin.post(BITMAPS, "[1]").expect(400).error())
                    .isEqualTo("expected {\"name\": \"B\", \"granularity\": 65536}");
            assertThat(admin.post(BITMAPS, "{\"name\":\"x\",\"granularity\":3000}").expect(400).error())
                    .startsWith("granularity must be a power of two");
            assertThat(admin.post(BITMAPS, "{\"name\":\"../x\"}").expect(400).error())
                    .startsWith("bitmap name \"../x\"");
            assertThat(admin.get("/v1/nothing").expect(404).error()).isEqualTo("no such path");
            assertThat(admin.request("PUT", "/v1/exports", "").expect(405).error()).isEqualTo("use GET");
            assertThat(admin.delete(BITMAPS).expect(405).error()).isEqualTo("use POST to add a bitmap");
            assertThat(admin.delete("/v1/connections/x").expect(400).error())
                    .isEqualTo("a connection id is a number, got 'x'");

            assertThat(admin.post("/v1/exports/zz/bitmaps", "{\"name\":\"b\"}").expect(404).error())
                    .isEqualTo("no export 'zz'");
            assertThat(admin.post(BITMAPS + "/nope/clear", "").expect(404).error())
                    .isEqualTo("export 'd' has no bitmap 'nope'");
            assertThat(admin.delete("/v1/exports/zz/bitmaps/b").expect(404).error()).isEqualTo("no export 'zz'");
            assertThat(admin.delete("/v1/connections/987654").expect(404).error())
                    .isEqualTo("no open connection 987654");
            admin.post(BITMAPS, "{\"name\":\"b\",\"granularity\":\"64KiB\"}").expect(201);
            assertThat(admin.post(BITMAPS, "{\"name\":\"b\",\"granularity\":4096}").expect(409).error())
                    .isEqualTo("export 'd' already has a bitmap 'b'");

            try (var files = Files.list(dir.resolve("exports"))) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("d.img",
                        ".d.img.bitmap-b");
            }
            JsonNode bitmaps = onlyExport(admin).path("bitmaps");
            assertThat(bitmaps).hasSize(1);
            assertThat(bitmaps.get(0).path("name").asText()).isEqualTo("b");
            assertThat(bitmaps.get(0).path("granularity").asLong()).as("the first add's").isEqualTo(65536);
            assertThat(bitmaps.get(0).path("dirty_bytes").asLong(-1)).isZero();
            assertThat(d.log()).contains("admin request refused peer=" + me() + " method=POST "
                    + "path=/v1/exports/zz/bitmaps status=404 reason=error: no export 'zz'");
            try (RawClient c = d.open("d", true)) {
                c.read(0, 512).assertOk();
            }
        }
    }

    @Test
    void blockStatusAnswersEverySelectedContextAndARemovedBitmapIsAnError() throws Exception {
        try (DaemonProcess d = start()) {
            AdminSocket admin = admin();
            admin.post("/v1/exports/d/bitmaps", "{\"name\": \"b\"}").expect(201);
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

                admin.delete("/v1/exports/d/bitmaps/b").expect(200);
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
        try (DaemonProcess d = start()) {
            // Every directory up to the socket is searchable: only the socket's own mode keeps others out.
            for (Path p = dir; p != null && !p.equals(p.getRoot()); p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
            String socket = dir.resolve("admin.sock").toString();
            Tool.Result other = Tool.run(Duration.ofSeconds(60), "setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", Tool.PYTHON, "-c", CONNECT, socket);
            assertThat(other.exitCode()).as(other.describe()).isEqualTo(3);
            assertThat(other.stdout()).isEqualTo("refused: Permission denied\n");
            Tool.Result owner = Tool.run(Duration.ofSeconds(60), Tool.PYTHON, "-c", CONNECT, socket).assertOk();
            assertThat(owner.stdout()).isEqualTo("HTTP/1.1 200 OK\n");
            admin().get("/v1/exports").expect(200);
        }
    }
}
