package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bufcache stats}: scrapes a running daemon's Prometheus endpoint and prints
 * the cache (space, dirty, running write-back, hit ratio, flush activity), TLS
 * (handshakes by result, connections by TLS state) and the traffic of each
 * export. {@code --watch} redraws every few seconds.
 */
@Command(name = "stats", mixinStandardHelpOptions = true, description = "Summarize a running bufcached's /metrics.")
final class StatsCommand implements Callable<Integer> {
    @Option(names = "--metrics", defaultValue = "http://127.0.0.1:10810/metrics",
            description = "metrics URL of the daemon (default ${DEFAULT-VALUE})")
    URI url;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2", description = "refresh every N seconds (default 2)")
    Double watch;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        PrintWriter out = spec.commandLine().getOut();
        do {
            HttpResponse<String> r;
            try {
                r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                throw new java.io.IOException("cannot scrape " + url + ": " + org.bufcached.client.Errors.message(e), e);
            }
            if (r.statusCode() != 200) {
                throw new java.io.IOException("cannot scrape " + url + ": HTTP " + r.statusCode());
            }
            if (watch != null) {
                out.print("\033[H\033[2J");
            }
            print(out, MetricsSnapshot.parse(r.body()));
            out.flush();
            if (watch != null) {
                Thread.sleep((long) (watch * 1000));
            }
        } while (watch != null);
        return 0;
    }

    private static final String CACHE = "bufcached_cache_";

    private static void print(PrintWriter out, MetricsSnapshot m) {
        if (!m.has(CACHE + "bufspace_bytes")) {
            throw new IllegalStateException("the endpoint has no bufcached cache metrics");
        }
        out.println("cache");
        line(out, "space", bytes(m.sum(CACHE + "bufspace_bytes")) + " of " + bytes(m.sum(CACHE
                + "tunable_hibufspace_bytes")) + " (" + bytes(m.sum(CACHE + "mapped_bytes")) + " mapped)");
        line(out, "dirty", bytes(m.sum(CACHE + "dirtybufspace_bytes")) + " in " + count(m.sum(CACHE + "dirtybufcount"))
                + " buffers (high mark " + bytes(m.sum(CACHE + "tunable_hidirtybufspace_bytes")) + ")");
        line(out, "running", bytes(m.sum(CACHE + "runningbufspace_bytes")) + " in "
                + count(m.sum(CACHE + "runningbufcount")) + " writes");
        double hits = m.sum(CACHE + "hits_total");
        double misses = m.sum(CACHE + "misses_total");
        line(out, "hit ratio", hits + misses == 0 ? "n/a" : String.format(Locale.ROOT, "%.1f%% (%s hits, %s misses)",
                100 * hits / (hits + misses), count(hits), count(misses)));
        line(out, "flushing", count(m.sum(CACHE + "flush_buffers_total")) + " buffers written back in "
                + count(m.sum(CACHE + "flush_clusters_total")) + " clusters, "
                + count(m.sum(CACHE + "flush_errors_total")) + " errors");
        if (m.has("bufcached_tls_handshakes_total")) {
            out.println();
            out.println("tls");
            line(out, "handshakes", count(m.sum("bufcached_tls_handshakes_total", "result", "success")) + " succeeded, "
                    + count(m.sum("bufcached_tls_handshakes_total", "result", "failure")) + " failed, "
                    + count(m.sum("bufcached_tls_handshakes_total", "result", "timeout")) + " timed out");
            line(out, "open", count(m.sum("bufcached_tls_connections", "state", "encrypted")) + " encrypted, "
                    + count(m.sum("bufcached_tls_connections", "state", "handshaking")) + " handshaking, "
                    + count(m.sum("bufcached_tls_connections", "state", "plaintext")) + " plaintext");
        }
        List<String> exports = m.labelValues("bufcached_requests_total", "export");
        if (!exports.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-20s %14s %14s %12s %12s%n", "export", "read", "written", "requests", "errors");
            for (String e : exports) {
                out.printf(Locale.ROOT, "%-20s %14s %14s %12s %12s%n", e,
                        bytes(m.sum("bufcached_request_bytes_total", "export", e, "command", "read")),
                        bytes(m.sum("bufcached_request_bytes_total", "export", e, "command", "write")),
                        count(m.sum("bufcached_requests_total", "export", e)),
                        count(m.sum("bufcached_request_errors_total", "export", e)));
            }
        }
    }

    private static void line(PrintWriter out, String name, String value) {
        out.printf(Locale.ROOT, "  %-10s %s%n", name, value);
    }

    private static String bytes(double v) {
        return Sizes.format(v);
    }

    private static String count(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }
}
