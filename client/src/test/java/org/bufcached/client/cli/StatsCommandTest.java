package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.bufcached.client.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stats} against a fixed /metrics text and against a running daemon. */
class StatsCommandTest {
    private static final String METRICS = String.join("\n",
            "# HELP bufcached_cache_bufspace_bytes Bytes of buffers associated with blocks",
            "# TYPE bufcached_cache_bufspace_bytes gauge",
            "bufcached_cache_bufspace_bytes 1048576",
            "bufcached_cache_tunable_hibufspace_bytes 2097152",
            "bufcached_cache_mapped_bytes 4194304",
            "bufcached_cache_dirtybufspace_bytes 524288",
            "bufcached_cache_tunable_hidirtybufspace_bytes 1048576",
            "bufcached_cache_dirtybufcount 8",
            "bufcached_cache_runningbufspace_bytes 65536",
            "bufcached_cache_runningbufcount 1",
            "bufcached_cache_hits_total 90",
            "bufcached_cache_misses_total 10",
            "bufcached_cache_flush_buffers_total{daemon=\"buf_daemon\"} 30",
            "bufcached_cache_flush_buffers_total{daemon=\"buf_daemon_hw\"} 2",
            "bufcached_cache_flush_clusters_total{daemon=\"buf_daemon\"} 4",
            "bufcached_request_bytes_total{command=\"read\",export=\"disk\"} 2097152",
            "bufcached_request_bytes_total{command=\"write\",export=\"disk\"} 1048576",
            "bufcached_requests_total{command=\"read\",export=\"disk\"} 512",
            "bufcached_requests_total{command=\"write\",export=\"disk\"} 256",
            "bufcached_request_errors_total{command=\"read\",error=\"NBD_EINVAL\",export=\"disk\"} 3",
            "bufcached_tls_handshakes_total{result=\"success\"} 12",
            "bufcached_tls_handshakes_total{result=\"failure\"} 2",
            "bufcached_tls_handshakes_total{result=\"timeout\"} 1",
            "bufcached_tls_connections{state=\"encrypted\"} 5",
            "bufcached_tls_connections{state=\"handshaking\"} 0",
            "bufcached_tls_connections{state=\"plaintext\"} 1", "");

    @Test
    void summarizesCacheAndExports() throws Exception {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/metrics", ex -> {
            byte[] body = METRICS.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        try {
            CliTest.Run run = CliTest.run("stats", "--metrics",
                    "http://127.0.0.1:" + http.getAddress().getPort() + "/metrics");
            assertThat(run.code()).as(run.err()).isZero();
            assertThat(run.out()).contains("space      1 MiB of 2 MiB (4 MiB mapped)")
                    .contains("dirty      512 KiB in 8 buffers")
                    .contains("90.0% (90 hits, 10 misses)")
                    .contains("32 buffers written back in 4 clusters")
                    .contains("handshakes 12 succeeded, 2 failed, 1 timed out")
                    .contains("open       5 encrypted, 0 handshaking, 1 plaintext")
                    .containsPattern("disk\\s+2 MiB\\s+1 MiB\\s+768\\s+3");
        } finally {
            http.stop(0);
        }
        CliTest.Run down = CliTest.run("stats", "--metrics", "http://127.0.0.1:1/metrics");
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).contains("cannot scrape");
    }

    @Test
    void summarizesARunningDaemon(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(16 << 20);
        }
        int port = freePort();
        try (TestServer server = TestServer.bufcached(dir, file, "127.0.0.1:" + port)) {
            Path data = dir.resolve("in.bin");
            java.nio.file.Files.write(data, new byte[1 << 20]);
            CliTest.Run write = CliTest.run("write", server.uri().toString(), "--offset", "0", "-i", data.toString());
            assertThat(write.code()).as(write.err()).isZero();
            CliTest.Run run = CliTest.run("stats", "--metrics", "http://127.0.0.1:" + port + "/metrics");
            assertThat(run.code()).as(run.err()).isZero();
            assertThat(run.out()).contains("cache").contains("hit ratio").containsPattern("disk\\s+\\S+ \\S+\\s+1 MiB")
                    .contains("handshakes 0 succeeded, 0 failed, 0 timed out");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
