package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The monitoring kit in {@code monitoring/} against a running daemon: every
 * metric the Grafana dashboard and the Prometheus rules name is served after
 * some load (writes, reads, FLUSH, an error), the rules pass {@code promtool
 * check rules} and their unit tests, a scrape passes {@code promtool check
 * metrics}, and the dashboard has what Grafana's import needs.
 */
class MonitoringIT {
    private static final Path MONITORING = Path.of(System.getProperty("basedir", "."), "..", "monitoring").normalize();
    private static final Path DASHBOARD = MONITORING.resolve("bufcached-dashboard.json");
    private static final Path RULES = MONITORING.resolve("bufcached-rules.yml");
    /** Metric names in PromQL: everything of ours and the JVM's; recording rules (with ':') are not scraped. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:bufcached|jvm|process|system)_[a-z0-9_]+)\\b");
    private static final int EPERM = 1;

    @TempDir
    static Path dir;
    private static DaemonProcess daemon;
    private static int metricsPort;
    private static String scrape;

    @BeforeAll
    static void startAndLoad() throws Exception {
        metricsPort = DaemonProcess.freePort();
        daemon = DaemonProcess.builder(dir).export("disk", 64 * DaemonProcess.MiB)
                .export("ro", DaemonProcess.MiB, true, null).metrics(metricsPort).start();
        Path src = TestData.sparseFile(dir.resolve("src.img"), 64 * DaemonProcess.MiB, 7,
                new long[] {0, 16 * DaemonProcess.MiB}, new int[] {4 << 20, 1 << 20});
        Tool.require("nbdcopy", "libnbd-bin");
        Tool.run(Duration.ofSeconds(120), "nbdcopy", "--flush", src.toString(), daemon.uri("disk")).assertOk(); // writes, FLUSH
        Tool.run(Duration.ofSeconds(120), "nbdcopy", daemon.uri("disk"), "null:").assertOk();         // reads
        Tool.run(Duration.ofSeconds(120), "nbdcopy", daemon.uri("disk"), "null:").assertOk();         // hits
        try (RawClient ro = RawClient.connect(UnixDomainSocketAddress.of(daemon.socket())).handshake().enter("ro")) {
            ro.write(0, new byte[512]).assertError(EPERM);
        }
        scrape = daemon.scrape(metricsPort);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void everyMetricOfTheDashboardAndTheRulesIsServed() throws Exception {
        Set<String> served = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                served.add(line.split("[{ ]", 2)[0]);
            }
        }
        Set<String> named = new TreeSet<>();
        dashboardExpressions().forEach(e -> named.addAll(metrics(e)));
        int fromDashboard = named.size();
        ruleExpressions().forEach(e -> named.addAll(metrics(e)));
        assertThat(fromDashboard).as("metrics named by the dashboard").isGreaterThan(20);
        assertThat(named).as("metrics named by the dashboard and the rules, all served after load")
                .isNotEmpty().allMatch(served::contains);
    }

    @Test
    void theLoadShowsInTheSeriesTheDashboardPlots() {
        assertThat(scrape).containsPattern("bufcached_requests_total\\{command=\"flush\",export=\"disk\"[^}]*\\} [1-9]")
                .containsPattern("bufcached_request_errors_total\\{error=\"EPERM\",export=\"ro\"[^}]*\\} 1")
                .containsPattern("bufcached_export_cache_hits_total\\{export=\"disk\"[^}]*\\} [1-9]")
                .containsPattern("bufcached_build_info\\{commit=\"[0-9a-f]{12}|unknown\"");
    }

    @Test
    void rulesPassPromtoolAndTheirUnitTests() {
        Tool.require("promtool", "prometheus");
        Tool.run("promtool", "check", "rules", RULES.toString()).assertOk();
        Tool.Result tests = Tool.run(Duration.ofSeconds(60), MONITORING, List.of("promtool", "test", "rules",
                "bufcached-rules.test.yml"));
        tests.assertOk();
        assertThat(tests.stdout()).contains("SUCCESS");
    }

    @Test
    void aScrapePassesPromtoolCheckMetrics() throws IOException {
        Tool.require("promtool", "prometheus");
        Path file = Files.writeString(dir.resolve("scrape.txt"), scrape, StandardCharsets.UTF_8);
        Tool.Result r = Tool.run(Duration.ofSeconds(60), null, List.of("sh", "-c", "promtool check metrics < " + file));
        assertThat(r.stdout() + r.stderr()).as("promtool check metrics findings").isEmpty();
        r.assertOk();
    }

    @Test
    void theDashboardHasWhatGrafanaImportNeeds() throws IOException {
        JsonNode d = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertThat(d.path("title").asText()).isEqualTo("bufcached");
        assertThat(d.path("uid").asText()).isNotEmpty();
        assertThat(d.path("schemaVersion").asInt()).isPositive();
        assertThat(d.path("__inputs").get(0).path("name").asText()).isEqualTo("DS_PROMETHEUS");
        List<Integer> ids = new ArrayList<>();
        for (JsonNode panel : d.path("panels")) {
            ids.add(panel.path("id").asInt());
            assertThat(panel.path("gridPos").path("w").asInt()).isBetween(1, 24);
            if (!panel.path("type").asText().equals("row")) {
                assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${DS_PROMETHEUS}");
                assertThat(panel.path("targets")).isNotEmpty();
            }
        }
        assertThat(ids).doesNotHaveDuplicates();
    }

    private static List<String> dashboardExpressions() throws IOException {
        List<String> exprs = new ArrayList<>();
        for (JsonNode expr : new ObjectMapper().readTree(DASHBOARD.toFile()).findValues("expr")) {
            exprs.add(expr.asText());
        }
        for (JsonNode query : new ObjectMapper().readTree(DASHBOARD.toFile()).findValues("definition")) {
            exprs.add(query.asText());
        }
        return exprs;
    }

    @SuppressWarnings("unchecked")
    private static List<String> ruleExpressions() throws IOException {
        Map<String, Object> rules = new Yaml().load(Files.readString(RULES));
        List<String> exprs = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) rules.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                exprs.add(rule.get("expr").toString());
            }
        }
        assertThat(exprs).as("rules in %s", RULES).hasSizeGreaterThan(10);
        return exprs;
    }

    private static Set<String> metrics(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }
}
