package org.bufcached.client.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bufcache stats}: scrapes a running daemon's Prometheus endpoint and prints
 * the cache (space, dirty, running write-back, hit ratio, flush activity) and the
 * traffic of each export. {@code --watch} redraws every few seconds.
 */
@Command(name = "stats", mixinStandardHelpOptions = true, description = "Summarize a running bufcached's /metrics.")
final class StatsCommand implements Callable<Integer> {
    @Option(names = "--metrics", defaultValue = "http://127.0.0.1:9102/metrics",
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

    private static void print(PrintWriter out, MetricsSnapshot m) {
        out.println("cache");
        line(out, "space", bytes(m.sum("bufspace", "dirty", "running", "hw", "lo", "max")) + " of "
                + bytes(m.sum("bufspace_max", "") + m.sum("hibufspace", "")));
        line(out, "dirty", bytes(m.sum("dirtybufspace", "hw", "lo", "hi")) + " in " + count(m.sum("dirtybufcount", "hw"))
                + " buffers");
        line(out, "running", bytes(m.sum("runningbufspace", "lo", "hi")) + " in " + count(m.sum("runningbufcount", ""))
                + " writes");
        double hits = m.sum("hit", "ratio");
        double misses = m.sum("miss", "");
        line(out, "hit ratio", hits + misses == 0 ? "n/a" : String.format(Locale.ROOT, "%.1f%% (%s hits, %s misses)",
                100 * hits / (hits + misses), count(hits), count(misses)));
        line(out, "flushes", count(m.sum("flush", "bytes", "seconds")) + " (" + bytes(m.sum("flush_bytes", "")
                + m.sum("flushed_bytes", "")) + " written back)");
        Map<String, Map<String, Double>> exports = m.byLabel("export");
        if (!exports.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-20s %14s %14s %12s %12s%n", "export", "read", "written", "requests", "errors");
            for (Map.Entry<String, Map<String, Double>> e : exports.entrySet()) {
                Map<String, Double> v = e.getValue();
                out.printf(Locale.ROOT, "%-20s %14s %14s %12s %12s%n", e.getKey(),
                        bytes(MetricsSnapshot.sum(v, "read", "bytes")), bytes(MetricsSnapshot.sum(v, "writ", "bytes")),
                        count(MetricsSnapshot.sum(v, "request", "")), count(MetricsSnapshot.sum(v, "error", "")));
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
