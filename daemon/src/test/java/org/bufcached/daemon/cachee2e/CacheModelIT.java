package org.bufcached.daemon.cachee2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigLoader;
import org.bufcached.daemon.Daemon;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.NbdWire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Randomized model test of the buffer cache, in process: one 8 MiB export behind
 * a cache of eight 64 KiB buffers, 1 MiB windows and a 2 MiB mapping budget, so
 * that buffers are recycled, dirty buffers flushed and windows retired and
 * remapped all the time. Four connections (two with structured replies, two
 * without) issue pipelined random READ, WRITE (some FUA), TRIM, WRITE_ZEROES,
 * FLUSH and CACHE with unaligned offsets and lengths that cross buffer and
 * window boundaries; every READ must equal the model, and so must the whole
 * export read back at the end and the backing file itself.
 *
 * <p>The seed is random unless {@code -Dcachee2e.seed=N}; it is in every failure message.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CacheModelIT {
    private static final int KiB = 1024;
    private static final int MiB = 1024 * KiB;
    private static final int SIZE = 8 * MiB;

    @TempDir
    Path tmp;

    static long seed() {
        String s = System.getProperty("cachee2e.seed");
        return s != null && !s.isBlank() ? Long.parseLong(s.trim()) : new Random().nextLong();
    }

    private Daemon start(String cacheYaml, byte[] initial) throws Exception {
        Path file = tmp.resolve("m.img");
        Files.write(file, initial);
        String yaml = """
                listen:
                  tcp: []
                  unix: ["%s"]
                exports:
                  - name: m
                    path: "%s"
                    size: %d
                cache:
                %s
                metrics:
                  enabled: false
                """.formatted(tmp.resolve("nbd.sock"), file, SIZE, cacheYaml.indent(2).stripTrailing());
        BufcachedConfig config = ConfigLoader.parse(yaml, "cache-model.yaml");
        Daemon daemon = new Daemon(config);
        daemon.start();
        return daemon;
    }

    private RawClient open(boolean structured) throws IOException {
        RawClient c = RawClient.connect(UnixDomainSocketAddress.of(tmp.resolve("nbd.sock"))).handshake();
        if (structured) {
            c.structuredReplies();
        }
        return c.enter("m");
    }

    /** The cache's gauges and counters, for a failure message: what is held, dirty, running, waiting. */
    static String cacheMetrics(Daemon daemon) {
        StringBuilder b = new StringBuilder();
        for (String line : daemon.meterRegistry().scrape().split("\n")) {
            // Leave out histogram buckets and the limits (tunables), which do not move.
            if (line.startsWith("bufcached_cache_") && !line.contains("_bucket")
                    && !line.matches("bufcached_cache_\\w+_(low|high|max|limit|size)_bytes .*")) {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }

    private static double counter(MeterRegistry r, String name) {
        return r.find(name).functionCounters().stream().mapToDouble(FunctionCounter::count).sum();
    }

    /**
     * The model run: 8 MiB export, 1 MiB cache of 16 KiB buffers (hibufspace 54
     * buffers), 256 KiB windows under a 512 KiB mapping budget. Requests are at most
     * 64 KiB and at most two in flight per connection, so the buffers that replies
     * in progress hold (see {@link #tinyCacheWithDeepPipelines}) stay below hibufspace.
     */
    @Test
    void randomRequestsOnFourConnectionsMatchTheModel() throws Exception {
        runModel("""
                size: 1MiB
                buffer-size: 16KiB
                window-size: 256KiB
                max-mapped: 512KiB
                lodirtybufspace: 64KiB
                hidirtybufspace: 256KiB
                flushperqueue: 2
                cluster-limit: 128KiB
                """, 64 * KiB, 2, new long[] {4 * KiB, 16 * KiB, 256 * KiB}, Duration.ofSeconds(20));
    }

    /**
     * The configuration the issue asked for: eight 64 KiB buffers, 1 MiB windows,
     * 2 MiB budget, requests up to 160 KiB, six in flight per connection. Fails
     * today: a READ holds every buffer it has gathered while it waits for the
     * next one, so four connections' partial reads can hold all of the (six,
     * up to hibufspace) buffers that getnewbuf hands out and wait for each other
     * for ever; the parked requests are retried in a busy loop (getnewbufcalls
     * climbs by ~100k/s) and SIGTERM then waits the full 30 s drain.
     */
    @Test
    void tinyCacheWithDeepPipelines() throws Exception {
        runModel("""
                size: 512KiB
                buffer-size: 64KiB
                window-size: 1MiB
                max-mapped: 2MiB
                lodirtybufspace: 64KiB
                hidirtybufspace: 192KiB
                flushperqueue: 2
                cluster-limit: 256KiB
                """, 160 * KiB, 6, new long[] {4 * KiB, 64 * KiB, MiB}, Duration.ofSeconds(20));
    }

    private void runModel(String cacheYaml, int maxLength, int depth, long[] boundaries, Duration duration)
            throws Exception {
        long seed = seed();
        System.out.println("CacheModelIT seed " + seed + " (rerun with -Dcachee2e.seed=" + seed + ")");
        byte[] initial = new byte[SIZE];
        new Random(seed).nextBytes(initial);
        Daemon daemon = start(cacheYaml, initial.clone());
        try {
            ModelDriver driver = new ModelDriver(initial, seed, 4, maxLength, depth, boundaries);
            try {
                driver.run((i, structured) -> open(structured), duration, () -> true);
                try (RawClient c = open(true)) {
                    driver.verifyAll(c, maxLength);
                    c.request(NbdWire.CMD_FLUSH, 0, 0, 0).assertOk();
                    driver.verifyFile(Files.readAllBytes(tmp.resolve("m.img")));
                    c.disconnect();
                }
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n--- cache metrics at the failure ---\n"
                        + cacheMetrics(daemon), e);
            }
            MeterRegistry r = daemon.meterRegistry();
            double unmapped = counter(r, "bufcached.cache.windows.unmapped");
            double flushed = counter(r, "bufcached.cache.flushed.buffers");
            System.out.println("CacheModelIT seed " + seed + ": " + driver.stats + "; windows unmapped " + unmapped
                    + ", buffers flushed " + flushed + ", getnewbuf calls "
                    + counter(r, "bufcached.cache.buffer.allocations"));
            assertThat(driver.stats.reads.sum()).as("reads checked (seed %d)", seed).isGreaterThan(1000);
            assertThat(unmapped).as("windows unmapped: the budget forced retirement (seed %d)", seed)
                    .isGreaterThan(10);
            assertThat(flushed).as("buffers written back by the flush daemons (seed %d)", seed).isGreaterThan(10);
        } finally {
            daemon.stop();
        }
    }

    /**
     * A single READ larger than the whole cache (1 MiB through eight 64 KiB
     * buffers) must still be answered: a reply that holds every buffer it covers
     * until the socket write completes cannot wait for a ninth.
     */
    @Test
    void aReadLargerThanTheCacheIsAnswered() throws Exception {
        byte[] initial = new byte[SIZE];
        new Random(7).nextBytes(initial);
        Daemon daemon = start("""
                size: 512KiB
                buffer-size: 64KiB
                window-size: 1MiB
                max-mapped: 2MiB
                """, initial.clone());
        try (RawClient c = open(false)) {
            byte[] got;
            try {
                got = c.read(MiB + 4096 + 17, 2 * MiB).assertOk().data();
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n--- cache metrics at the failure ---\n"
                        + cacheMetrics(daemon), e);
            }
            assertThat(java.util.Arrays.equals(got, 0, got.length, initial, MiB + 4096 + 17, 3 * MiB + 4096 + 17))
                    .as("2 MiB read through a 512 KiB cache").isTrue();
            byte[] data = new byte[2 * MiB];
            new Random(8).nextBytes(data);
            c.write(3 * MiB - 5, data).assertOk();
            byte[] back = c.read(3 * MiB - 5, 2 * MiB).assertOk().data();
            assertThat(back).as("2 MiB written and read back through a 512 KiB cache").isEqualTo(data);
            c.disconnect();
        } finally {
            daemon.stop();
        }
    }
}
