package org.bufcached.client.cli;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.HdrHistogram.Histogram;
import org.bufcached.client.ClientOptions;
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
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Generate load and report IOPS, throughput and latency percentiles.")
final class BenchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "URI", description = "NBD URI of the export")
    NbdUri uri;

    @Mixin
    TlsMixin tls;

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
                clients.add(NbdClient.connect(uri, ClientOptions.DEFAULT.withGroup(group)).get());
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
            Thread.sleep((long) (seconds * 1000));
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
