package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code stats} against a fake /metrics endpoint in the Prometheus text format. */
class StatsCommandTest {
    private static final String METRICS = String.join("\n",
            "# HELP bufcached_cache_bufspace_bytes Space held by buffers",
            "# TYPE bufcached_cache_bufspace_bytes gauge",
            "bufcached_cache_bufspace_bytes 1048576",
            "bufcached_cache_dirtybufspace_bytes 524288",
            "bufcached_cache_dirtybufcount 8",
            "bufcached_cache_runningbufspace_bytes 65536",
            "bufcached_cache_hits_total 90",
            "bufcached_cache_misses_total 10",
            "bufcached_flush_total 3",
            "bufcached_export_read_bytes_total{export=\"disk\"} 2097152",
            "bufcached_export_written_bytes_total{export=\"disk\"} 1048576",
            "bufcached_export_requests_total{export=\"disk\",command=\"read\"} 512", "");

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
            assertThat(run.out()).contains("space      1 MiB").contains("dirty      512 KiB in 8 buffers")
                    .contains("90.0% (90 hits, 10 misses)").contains("disk").contains("2 MiB");
        } finally {
            http.stop(0);
        }
        CliTest.Run down = CliTest.run("stats", "--metrics", "http://127.0.0.1:1/metrics");
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).contains("cannot scrape");
    }
}
