package org.bufcached.client.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bufcached.client.Errors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bufcache stats}: scrapes a running daemon's Prometheus endpoint twice
 * and prints the cache (space, dirty data against the high mark, write-back,
 * hit ratio, throttled writers), TLS (handshakes by result, connections by TLS
 * state) and each export's traffic as rates per second over the interval between
 * the scrapes, with how much of its data is dirty in the daemon and whether FLUSH
 * still proves durability. {@code --watch} redraws every interval.
 */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Summarize a running bufcached's /metrics: the cache, and each export's requests and bytes",
            "per second over the interval (1 s, or the --watch interval), clients, dirty data and durability."},
        footer = {"", "Examples:",
            "  bufcache stats",
            "  bufcache stats --watch 5 --metrics http://10.0.0.2:10810/metrics",
            "", "Dirty data was written by clients and not yet written back: it survives a crash of the daemon",
            "(it is in the page cache) but not a power loss until it is written back and synced (FLUSH, FUA,",
            "or the daemon's background sync). 'durable: NO' means a write-back failed and FLUSH is refused."})
final class StatsCommand implements Callable<Integer> {
    @Option(names = "--metrics", defaultValue = "http://127.0.0.1:10810/metrics",
            description = "metrics URL of the daemon (default ${DEFAULT-VALUE})")
    URI url;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2", paramLabel = "SECONDS",
            description = "redraw every SECONDS (default 2) until interrupted")
    Double watch;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Built here, not as a field: picocli instantiates every subcommand at start, and an
        // HttpClient (its SSL context) costs about 0.4 s of start-up to whichever command runs.
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        PrintWriter out = spec.commandLine().getOut();
        double interval = watch != null ? watch : 1;
        if (interval <= 0) {
            throw new UsageException("--watch takes a positive number of seconds");
        }
        MetricsSnapshot previous = scrape(http);
        long previousNanos = System.nanoTime();
        do {
            Thread.sleep((long) (interval * 1000));
            MetricsSnapshot current = scrape(http);
            long now = System.nanoTime();
            if (watch != null) {
                out.print("\033[H\033[2J");
            }
            print(out, previous, current, (now - previousNanos) / 1e9);
            out.flush();
            previous = current;
            previousNanos = now;
        } while (watch != null);
        return 0;
    }

    private MetricsSnapshot scrape(HttpClient http) throws IOException, InterruptedException {
        HttpResponse<String> r;
        try {
            r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException("cannot scrape " + url + ": " + (e instanceof java.net.ConnectException
                    ? "connection refused (is bufcached running, with metrics on this address?)"
                    : Errors.message(e)), e);
        }
        if (r.statusCode() != 200) {
            throw new IOException("cannot scrape " + url + ": HTTP " + r.statusCode());
        }
        return MetricsSnapshot.parse(r.body());
    }

    private static final String CACHE = "bufcached_cache_";

    /** The summary of {@code current}, with rates against {@code previous}, taken {@code seconds} apart. */
    static void print(PrintWriter out, MetricsSnapshot previous, MetricsSnapshot current, double seconds) {
        if (!current.has(CACHE + "used_bytes")) {
            throw new IllegalStateException("the endpoint has no bufcached cache metrics (not a bufcached, or an"
                    + " older one)");
        }
        Rates rate = new Rates(previous, current, seconds);
        MetricsSnapshot m = current;
        out.printf(Locale.ROOT, "%s   rates over the last %.1f s%n", build(m), seconds);
        out.println();
        out.println("cache");
        line(out, "used", bytes(m.sum(CACHE + "used_bytes")) + " of " + bytes(m.sum(CACHE + "space_high_bytes"))
                + " (" + bytes(m.sum(CACHE + "mapped_bytes")) + " mapped)");
        line(out, "dirty", bytes(m.sum(CACHE + "dirty_bytes")) + " in " + count(m.sum(CACHE + "dirty_buffers"))
                + " buffers (writers wait above " + bytes(m.sum(CACHE + "dirty_high_bytes")) + "); "
                + bytes(m.sum(CACHE + "writeback_bytes")) + " being written back");
        double hits = m.sum(CACHE + "hits_total");
        double misses = m.sum(CACHE + "misses_total");
        double hitRate = rate.of(CACHE + "hits_total");
        double missRate = rate.of(CACHE + "misses_total");
        line(out, "hit ratio", (hitRate + missRate == 0 ? "idle now" : percent(hitRate, hitRate + missRate) + " now")
                + ", " + (hits + misses == 0 ? "n/a" : percent(hits, hits + misses)) + " since start ("
                + count(hits) + " hits, " + count(misses) + " misses)");
        double waits = rate.of(CACHE + "writer_waits_total");
        line(out, "writers", waits == 0 ? "not throttled"
                : String.format(Locale.ROOT, "%.1f waits/s at the dirty high mark (throttled)", waits));
        line(out, "flushing", String.format(Locale.ROOT, "%.0f buffers/s written back, %s write-back errors",
                rate.of(CACHE + "flushed_buffers_total"), count(m.sum(CACHE + "writeback_errors_total"))));
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
        List<String> exports = m.labelValues("bufcached_export_info", "export");
        if (exports.isEmpty()) {
            return;
        }
        out.println();
        out.printf(Locale.ROOT, "%-16s %9s %10s %9s %10s %9s %8s %10s  %s%n", "export", "reads/s", "read/s",
                "writes/s", "written/s", "errors/s", "clients", "dirty", "durable");
        for (String e : exports) {
            out.printf(Locale.ROOT, "%-16s %9.0f %10s %9.0f %10s %9.1f %8s %10s  %s%n", e,
                    rate.of("bufcached_requests_total", "export", e, "command", "read"),
                    bytes(rate.of("bufcached_request_bytes_total", "export", e, "command", "read")),
                    rate.of("bufcached_requests_total", "export", e, "command", "write"),
                    bytes(rate.of("bufcached_request_bytes_total", "export", e, "command", "write")),
                    rate.of("bufcached_request_errors_total", "export", e),
                    count(m.sum("bufcached_export_connections_open", "export", e)),
                    bytes(m.sum("bufcached_export_dirty_bytes", "export", e)),
                    m.sum("bufcached_export_durability_failed", "export", e) > 0 ? "NO: FLUSH refused" : "yes");
        }
    }

    /** {@code bufcached VERSION (commit C, engine E)} from bufcached_build_info, if served. */
    private static String build(MetricsSnapshot m) {
        List<String> versions = m.labelValues("bufcached_build_info", "version");
        if (versions.isEmpty()) {
            return "bufcached";
        }
        return "bufcached " + versions.get(0) + " (commit " + first(m.labelValues("bufcached_build_info", "commit"))
                + ", engine " + first(m.labelValues("bufcached_build_info", "engine")) + ")";
    }

    private static String first(List<String> values) {
        return values.isEmpty() ? "?" : values.get(0);
    }

    /** Per-second rates of counters between two scrapes; a restart in between (a drop) counts from zero. */
    private record Rates(MetricsSnapshot previous, MetricsSnapshot current, double seconds) {
        double of(String name, String... labels) {
            double now = current.sum(name, labels);
            double before = previous.sum(name, labels);
            return (now >= before ? now - before : now) / Math.max(seconds, 1e-9);
        }
    }

    private static void line(PrintWriter out, String name, String value) {
        out.printf(Locale.ROOT, "  %-10s %s%n", name, value);
    }

    private static String percent(double part, double whole) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * part / whole);
    }

    private static String bytes(double v) {
        return Sizes.format(v);
    }

    private static String count(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }
}
