package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.HdrHistogram.Histogram;
import org.bufcached.client.NbdClient;
import org.bufcached.client.NbdUri;
import org.bufcached.client.Transport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bufcache bench URI}: a load generator with fio's vocabulary (rw, bs,
 * iodepth, runtime). Each connection gets its own event loop; results are IOPS,
 * throughput and an HdrHistogram of latencies.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Generate load and report IOPS, throughput and latency percentiles.",
            "On a terminal a line shows the IOPS and throughput of the last second while it runs.",
            "Writes overwrite the export's data: use a scratch export."},
        footer = {"", "Examples:",
            "  bufcache bench nbd+unix:///disk?socket=/run/bufcached/nbd.sock --rw randread --bs 4k --qd 32 --runtime 10",
            "  bufcache bench nbd://127.0.0.1:10809/scratch --rw randrw --rwmixread 70 --connections 4 --json",
            "", Help.URI_FORMS})
final class BenchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", description = "NBD URI of the export")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

    @Mixin
    HeadersMixin headers;

    @Option(names = "--rw", defaultValue = "randread",
            description = "read, write, rw (mix), randread, randwrite, randrw (default ${DEFAULT-VALUE})")
    String rw;

    @Option(names = "--rwmixread", defaultValue = "70", description = "percentage of reads in a mix (default ${DEFAULT-VALUE})")
    int mixRead;

    @Option(names = "--bs", defaultValue = "4k", description = "block size (default ${DEFAULT-VALUE})")
    long blockSize;

    @Option(names = {"--iodepth", "--qd"}, defaultValue = "32", description = "requests in flight per connection (default ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--connections", defaultValue = "1", description = "connections (default ${DEFAULT-VALUE})")
    int connections;

    @Option(names = {"--runtime", "--duration"}, defaultValue = "10", description = "seconds of load (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--histogram", description = "print the full latency distribution")
    boolean fullHistogram;

    @Option(names = "--json", description = "print the results as one JSON object")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "no live progress line")
    boolean quiet;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        uri = tls.apply(uri);
        int readPercent = readPercent();
        if (blockSize <= 0 || blockSize > (32 << 20) || depth < 1 || connections < 1 || seconds <= 0) {
            throw new UsageException("need 0 < --bs <= 32M, --iodepth >= 1, --connections >= 1, --runtime > 0");
        }
        EventLoopGroup group = Transport.newGroup(connections);
        ByteBuf data = PooledByteBufAllocator.DEFAULT.directBuffer((int) blockSize);
        byte[] noise = new byte[(int) blockSize];
        ThreadLocalRandom.current().nextBytes(noise);
        data.writeBytes(noise);
        List<NbdClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                clients.add(NbdClient.connect(uri, headers.options().withGroup(group)).get());
            }
            NbdClient first = clients.get(0);
            if (blockSize % first.info().minimumBlock() != 0 || blockSize > first.size()) {
                throw new UsageException("--bs " + blockSize + " must be a multiple of the minimum block size "
                        + first.info().minimumBlock() + " and fit the export");
            }
            List<LoadGenerator> generators = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                generators.add(new LoadGenerator(clients.get(i), (int) blockSize, rw.startsWith("rand"), readPercent,
                        data, 17L * i + System.nanoTime()));
            }
            long start = System.nanoTime();
            generators.forEach(g -> g.start(depth));
            runFor(generators, start);
            CompletableFuture.allOf(generators.stream().map(LoadGenerator::stop).toArray(CompletableFuture[]::new)).get();
            double elapsed = (System.nanoTime() - start) / 1e9;
            for (LoadGenerator g : generators) {
                if (g.failure() != null) {
                    throw g.failure() instanceof Exception ? (Exception) g.failure() : new RuntimeException(g.failure());
                }
            }
            report(generators, elapsed);
        } finally {
            clients.forEach(NbdClient::close);
            data.release();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
        return 0;
    }

    private int readPercent() {
        switch (rw) {
            case "read": case "randread": return 100;
            case "write": case "randwrite": return 0;
            case "rw": case "randrw":
                if (mixRead < 0 || mixRead > 100) {
                    throw new UsageException("--rwmixread must be between 0 and 100");
                }
                return mixRead;
            default:
                throw new UsageException("--rw must be one of read, write, rw, randread, randwrite, randrw: " + rw);
        }
    }

    /** Waits out the runtime, drawing the last second's rates on stderr when it is a terminal. */
    private void runFor(List<LoadGenerator> generators, long start) throws InterruptedException {
        long end = start + (long) (seconds * 1e9);
        int columns = quiet || json ? 0 : Terminal.stderrColumns();
        long lastOps = 0;
        long lastNanos = start;
        for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
            Thread.sleep(Math.max(1, Math.min(1000, (end - now) / 1_000_000)));
            if (columns > 0) {
                long ops = generators.stream().mapToLong(g -> g.reads() + g.writes()).sum();
                long t = System.nanoTime();
                double iops = (ops - lastOps) / Math.max(1e-9, (t - lastNanos) / 1e9);
                String line = String.format(Locale.ROOT, "bench  %.0f/%.0f s  %.0f IOPS  %s/s", (t - start) / 1e9,
                        seconds, iops, Sizes.format(iops * blockSize));
                System.err.print("\r" + (line.length() < columns ? line : line.substring(0, columns - 1)));
                System.err.flush();
                lastOps = ops;
                lastNanos = t;
            }
        }
        if (columns > 0) {
            System.err.print("\r" + " ".repeat(columns - 1) + "\r");
            System.err.flush();
        }
    }

    private void report(List<LoadGenerator> generators, double elapsed) {
        Histogram all = new Histogram(3_600_000_000_000L, 3);
        long reads = 0;
        long writes = 0;
        for (LoadGenerator g : generators) {
            all.add(g.histogram());
            reads += g.reads();
            writes += g.writes();
        }
        PrintWriter out = spec.commandLine().getOut();
        long ops = reads + writes;
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("uri", uri.toString());
            m.put("rw", rw);
            m.put("bs", blockSize);
            m.put("iodepth", depth);
            m.put("connections", connections);
            m.put("runtime_s", elapsed);
            m.put("iops", ops / elapsed);
            m.put("read_iops", reads / elapsed);
            m.put("write_iops", writes / elapsed);
            m.put("bytes_per_s", ops * blockSize / elapsed);
            Map<String, Object> latency = new LinkedHashMap<>();
            latency.put("min", all.getMinValue() / 1e3);
            latency.put("mean", all.getMean() / 1e3);
            latency.put("p50", all.getValueAtPercentile(50) / 1e3);
            latency.put("p99", all.getValueAtPercentile(99) / 1e3);
            latency.put("p999", all.getValueAtPercentile(99.9) / 1e3);
            latency.put("max", all.getMaxValue() / 1e3);
            m.put("latency_us", latency);
            out.println(Json.write(m));
            return;
        }
        out.printf(Locale.ROOT, "%s bs=%d iodepth=%d connections=%d runtime=%.1fs%n", rw, blockSize, depth, connections, elapsed);
        out.printf(Locale.ROOT, "IOPS: %.0f (read %.0f, write %.0f)%n", ops / elapsed, reads / elapsed, writes / elapsed);
        out.printf(Locale.ROOT, "throughput: %s/s%n", Sizes.format(ops * blockSize / elapsed));
        out.printf(Locale.ROOT, "latency (us): min %.1f  mean %.1f  p50 %.1f  p99 %.1f  p999 %.1f  max %.1f%n",
                all.getMinValue() / 1e3, all.getMean() / 1e3, all.getValueAtPercentile(50) / 1e3,
                all.getValueAtPercentile(99) / 1e3, all.getValueAtPercentile(99.9) / 1e3, all.getMaxValue() / 1e3);
        if (fullHistogram) {
            java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
            all.outputPercentileDistribution(new java.io.PrintStream(text, true, java.nio.charset.StandardCharsets.UTF_8), 5, 1000.0);
            out.print(text.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
