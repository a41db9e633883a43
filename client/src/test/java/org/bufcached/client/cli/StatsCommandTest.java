package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.bufcached.client.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stats} against a fixed /metrics text and against a running daemon. */
class StatsCommandTest {
    /** A scrape of a daemon that served 512 reads and 256 writes on "disk"; the second one, 2 s later, 100 more reads. */
    private static String metrics(int reads, double hits) {
        return String.join("\n",
                "# HELP bufcached_cache_used_bytes Bytes of buffers associated with blocks (vfs_bio: bufspace)",
                "# TYPE bufcached_cache_used_bytes gauge",
                "bufcached_build_info{commit=\"0123456789ab\",engine=\"io_uring\",version=\"0.1.0\"} 1",
                "bufcached_cache_used_bytes 1048576",
                "bufcached_cache_space_high_bytes 2097152",
                "bufcached_cache_mapped_bytes 4194304",
                "bufcached_cache_dirty_bytes 524288",
                "bufcached_cache_dirty_high_bytes 1048576",
                "bufcached_cache_dirty_buffers 8",
                "bufcached_cache_writeback_bytes 65536",
                "bufcached_cache_hits_total " + hits,
                "bufcached_cache_misses_total 10",
                "bufcached_cache_writer_waits_total 0",
                "bufcached_cache_flushed_buffers_total{flusher=\"buf_daemon\"} 30",
                "bufcached_cache_writeback_errors_total{flusher=\"buf_daemon\"} 0",
                "bufcached_export_info{export=\"disk\",path=\"/d.img\",readonly=\"false\",size_bytes=\"1\"} 1",
                "bufcached_export_connections_open{export=\"disk\"} 2",
                "bufcached_export_dirty_bytes{export=\"disk\"} 524288",
                "bufcached_export_durability_failed{export=\"disk\"} 0",
                "bufcached_request_bytes_total{command=\"read\",export=\"disk\"} " + reads * 4096,
                "bufcached_request_bytes_total{command=\"write\",export=\"disk\"} 1048576",
                "bufcached_requests_total{command=\"read\",export=\"disk\"} " + reads,
                "bufcached_requests_total{command=\"write\",export=\"disk\"} 256",
                "bufcached_request_errors_total{error=\"EINVAL\",export=\"disk\"} 3",
                "bufcached_tls_handshakes_total{result=\"success\"} 12",
                "bufcached_tls_handshakes_total{result=\"failure\"} 2",
                "bufcached_tls_handshakes_total{result=\"timeout\"} 1",
                "bufcached_tls_connections{state=\"encrypted\"} 5",
                "bufcached_tls_connections{state=\"handshaking\"} 0",
                "bufcached_tls_connections{state=\"plaintext\"} 1", "");
    }

    @Test
    void showsRatesOverTheIntervalDirtyDataAndDurability() {
        java.io.StringWriter text = new java.io.StringWriter();
        StatsCommand.print(new java.io.PrintWriter(text, true), MetricsSnapshot.parse(metrics(512, 90)),
                MetricsSnapshot.parse(metrics(712, 190)), 2.0);
        assertThat(text.toString())
                .contains("bufcached 0.1.0 (commit 0123456789ab, engine io_uring)   rates over the last 2.0 s")
                .contains("used       1 MiB of 2 MiB (4 MiB mapped)")
                .contains("dirty      512 KiB in 8 buffers (writers wait above 1 MiB); 64 KiB being written back")
                .contains("hit ratio  100.0% now, 95.0% since start (190 hits, 10 misses)")
                .contains("writers    not throttled")
                .contains("handshakes 12 succeeded, 2 failed, 1 timed out")
                .contains("open       5 encrypted, 0 handshaking, 1 plaintext")
                // 200 reads of 4 KiB in 2 s; no writes in between; 2 clients; 512 KiB dirty; FLUSH still proves durability
                .containsPattern("disk\\s+100\\s+400 KiB\\s+0\\s+0 B\\s+0.0\\s+2\\s+512 KiB\\s+yes");
    }

    @Test
    void saysWhenFlushIsRefusedAndWhenWritersAreThrottled() {
        String failed = metrics(1, 1).replace("durability_failed{export=\"disk\"} 0", "durability_failed{export=\"disk\"} 1");
        String waited = failed.replace("writer_waits_total 0", "writer_waits_total 10");
        java.io.StringWriter text = new java.io.StringWriter();
        StatsCommand.print(new java.io.PrintWriter(text, true), MetricsSnapshot.parse(failed),
                MetricsSnapshot.parse(waited), 2.0);
        assertThat(text.toString()).contains("NO: FLUSH refused").contains("5.0 waits/s at the dirty high mark");
    }

    @Test
    void anUnreachableEndpointIsOneLine() {
        CliTest.Run down = CliTest.run("stats", "--metrics", "http://127.0.0.1:1/metrics");
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).isEqualTo("bufcache: cannot scrape http://127.0.0.1:1/metrics: connection refused"
                + " (is bufcached running, with metrics on this address?)" + System.lineSeparator());
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
            assertThat(run.out()).contains("cache").contains("hit ratio").containsPattern("(?m)^disk\\s+\\d+")
                    .contains("yes").contains("handshakes 0 succeeded, 0 failed, 0 timed out");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
