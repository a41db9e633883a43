package org.bufcached.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.reload.ConfigFile;
import org.bufcached.daemon.systemd.Systemd;
import org.bufcached.daemon.testing.NbdWire;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.TlsClients;
import org.bufcached.tls.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS meters as /metrics serves them: handshakes by result, open connections by TLS state. */
class TlsMetricsTest {
    @TempDir
    Path dir;
    private TestCertificates certs;
    private ConfigFile config;
    private Daemon daemon;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        certs = TestCertificates.get();
        config = new ConfigFile(dir).metricsOnEphemeralPort().export("disk")
                .tls("  mode: on\n  certificates: \"" + certs.server() + "\"\n");
        daemon = new Daemon(config.write(), Systemd.none());
        daemon.start();
    }

    @AfterEach
    void stop() {
        daemon.stop();
    }

    @Test
    void handshakesByResultAndConnectionsByTlsState() throws Exception {
        PrometheusText idle = scrape();
        assertThat(idle.type("bufcached_tls_handshakes_total")).isEqualTo("counter");
        assertThat(idle.type("bufcached_tls_connections")).isEqualTo("gauge");
        assertThat(idle.value("bufcached_tls_handshakes_total", "result", "success")).isZero();

        try (RawClient plain = connect().handshake();
             RawClient secure = connect().handshake().tls(TlsClients.x509(certs.client("none")))) {
            try (RawClient garbage = connect().handshake()) {
                assertThat(garbage.singleReply(NbdWire.OPT_STARTTLS, new byte[0]).type()).isEqualTo(NbdWire.REP_ACK);
                garbage.write("not a ClientHello".getBytes(StandardCharsets.US_ASCII));
                garbage.assertClosed();
            }
            PrometheusText during = scrape();
            assertThat(during.value("bufcached_tls_handshakes_total", "result", "success")).isEqualTo(1);
            assertThat(during.value("bufcached_tls_handshakes_total", "result", "failure")).isEqualTo(1);
            assertThat(during.value("bufcached_tls_handshakes_total", "result", "timeout")).isZero();
            assertThat(during.value("bufcached_tls_connections", "state", "encrypted")).isEqualTo(1);
            assertThat(during.value("bufcached_tls_connections", "state", "plaintext")).isEqualTo(1);
            assertThat(during.value("bufcached_tls_connections", "state", "handshaking")).isZero();
            assertThat(during.value("bufcached_handshake_failures_total", "reason", "tls_handshake")).isEqualTo(1);
        }
    }

    private RawClient connect() throws Exception {
        return RawClient.connect(UnixDomainSocketAddress.of(config.socket()));
    }

    private PrometheusText scrape() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + daemon.metricsServer().address().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return PrometheusText.parse(response.body());
    }
}
