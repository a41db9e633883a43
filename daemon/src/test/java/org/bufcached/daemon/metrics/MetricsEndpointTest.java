package org.bufcached.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.reload.ConfigFile;
import org.bufcached.daemon.systemd.Systemd;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scrapes /metrics of an in-process daemon around NBD traffic and parses the text strictly. */
class MetricsEndpointTest {
    private static final int EPERM = 1;

    @TempDir
    Path dir;
    private ConfigFile config;
    private Daemon daemon;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws IOException {
        try (RandomAccessFile ro = new RandomAccessFile(dir.resolve("ro.img").toFile(), "rw")) {
            ro.setLength(1 << 20); // read-only exports are never created
        }
        config = new ConfigFile(dir).metricsOnEphemeralPort().export("disk").export("ro", "1MiB", "    readonly: true\n");
        daemon = new Daemon(config.write(), Systemd.none());
        daemon.start();
    }

    @AfterEach
    void stop() {
        daemon.stop();
    }

    @Test
    void countersMoveWithTraffic() throws Exception {
        PrometheusText before = scrape();
        try (RawClient disk = open("disk"); RawClient ro = open("ro")) {
            for (int i = 0; i < 3; i++) {
                disk.write(i * 4096L, new byte[4096]).assertOk();
            }
            disk.read(0, 8192).assertOk();
            ro.write(0, new byte[512]).assertError(EPERM);

            PrometheusText during = scrape();
            assertThat(during.valueOrZero("bufcached_requests_total", "export", "disk", "command", "write")
                    - before.valueOrZero("bufcached_requests_total", "export", "disk", "command", "write"))
                    .isEqualTo(3);
            assertThat(during.valueOrZero("bufcached_request_bytes_total", "export", "disk", "command", "write")
                    - before.valueOrZero("bufcached_request_bytes_total", "export", "disk", "command", "write"))
                    .isEqualTo(3 * 4096);
            assertThat(during.value("bufcached_request_bytes_total", "export", "disk", "command", "read"))
                    .isEqualTo(8192);
            assertThat(during.value("bufcached_request_errors_total", "export", "ro", "error", "EPERM")).isEqualTo(1);
            assertThat(during.value("bufcached_request_errors_total", "export", "disk", "error", "EIO"))
                    .as("error series exist at zero").isZero();
            assertThat(during.value("bufcached_request_duration_seconds_count", "export", "disk", "command", "write"))
                    .isEqualTo(3);
            assertThat(during.type("bufcached_request_duration_seconds")).isEqualTo("histogram");
            assertThat(during.value("bufcached_connections_open")).isEqualTo(2);
            assertThat(during.value("bufcached_export_connections_open", "export", "disk")).isEqualTo(1);
            assertThat(during.value("bufcached_export_cache_hits_total", "export", "disk")
                    + during.value("bufcached_export_cache_misses_total", "export", "disk")).isPositive();
            assertThat(during.value("bufcached_connections_total")).isGreaterThanOrEqualTo(2);

            disk.write(0, new byte[4096]).assertOk();
            PrometheusText after = scrape();
            assertThat(after.value("bufcached_requests_total", "export", "disk", "command", "write"))
                    .isEqualTo(during.value("bufcached_requests_total", "export", "disk", "command", "write") + 1);
        }
    }

    @Test
    void describesEveryExportAndTheBuildFromTheStart() throws Exception {
        PrometheusText text = scrape();
        assertThat(text.value("bufcached_export_info", "export", "ro", "path", dir.resolve("ro.img").toString(),
                "readonly", "true", "size_bytes", Integer.toString(1 << 20))).isEqualTo(1);
        for (String export : new String[] {"disk", "ro"}) {
            assertThat(text.value("bufcached_export_dirty_bytes", "export", export)).isZero();
            assertThat(text.value("bufcached_export_writeback_errors_total", "export", export)).isZero();
            assertThat(text.value("bufcached_export_durability_failed", "export", export)).isZero();
            assertThat(text.value("bufcached_requests_total", "export", export, "command", "flush")).isZero();
        }
        assertThat(text.value("bufcached_build_info", "version", org.bufcached.protocol.BuildInfo.current().version(),
                "commit", org.bufcached.protocol.BuildInfo.current().commit(),
                "engine", daemon.engine().label())).isEqualTo(1);
        assertThat(text.value("bufcached_config_last_reload_successful")).isEqualTo(1);
        assertThat(text.value("bufcached_config_reloads_total", "result", "rejected")).isZero();
    }

    @Test
    void exposesJvmAndProcessMeters() throws Exception {
        PrometheusText text = scrape();
        assertThat(text.type("jvm_memory_used_bytes")).isEqualTo("gauge");
        assertThat(text.type("jvm_threads_live_threads")).isEqualTo("gauge");
        assertThat(text.type("process_files_open_files")).isEqualTo("gauge");
        assertThat(text.type("jvm_gc_memory_allocated_bytes_total")).isEqualTo("counter");
    }

    @Test
    void countsHandshakeFailuresByReason() throws Exception {
        double before = scrape().valueOrZero("bufcached_handshake_failures_total", "reason", "unknown_client_flags");
        try (RawClient c = connect()) {
            c.readGreeting();
            c.sendClientFlags(0x80);
            c.assertClosed();
        }
        assertThat(scrape().value("bufcached_handshake_failures_total", "reason", "unknown_client_flags"))
                .isEqualTo(before + 1);
    }

    @Test
    void healthAndReadinessAnswerWithStatusCodes() throws Exception {
        assertThat(get("/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(get("/nothing-here").statusCode()).isEqualTo(404);
        HttpResponse<String> metrics = get("/metrics");
        assertThat(metrics.headers().firstValue("content-type")).hasValue(MetricsHttpHandler.PROMETHEUS_TEXT);
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }

    private RawClient connect() throws IOException {
        return RawClient.connect(UnixDomainSocketAddress.of(config.socket()));
    }

    private RawClient open(String export) throws IOException {
        return connect().handshake().enter(export);
    }

    private PrometheusText scrape() throws Exception {
        HttpResponse<String> response = get("/metrics");
        assertThat(response.statusCode()).isEqualTo(200);
        return PrometheusText.parse(response.body());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + daemon.metricsServer().address().getPort() + path);
    }
}
