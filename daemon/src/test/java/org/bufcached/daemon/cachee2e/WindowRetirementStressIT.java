package org.bufcached.daemon.cachee2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.interop.DaemonProcess;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KVABIO safety property under stress, in a child process so that touching
 * an unmapped window (SIGSEGV, a dead JVM) shows as a dead process rather than
 * a dead test run: 16 KiB buffers, 64 KiB windows and a 128 KiB mapping budget
 * over an 8 MiB export, so that nearly every request retires a window and maps
 * another; four connections issue random pipelined requests for 35 s, each READ
 * checked against the model. Afterwards the daemon must be alive, the whole
 * export must read back as the model, the backing file must equal the model,
 * windows must have been unmapped many times, and SIGTERM must stop it with 0.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WindowRetirementStressIT {
    private static final int KiB = 1024;
    private static final int SIZE = 8 << 20;
    private static final Duration DURATION = Duration.ofSeconds(35);

    @TempDir
    Path tmp;

    @Test
    void concurrentIoWhileWindowsAreRetiredAndRemapped() throws Exception {
        long seed = CacheModelIT.seed();
        System.out.println("WindowRetirementStressIT seed " + seed + " (rerun with -Dcachee2e.seed=" + seed + ")");
        byte[] initial = new byte[SIZE];
        new Random(seed).nextBytes(initial);
        Path file = tmp.resolve("stress.img");
        Files.write(file, initial);
        int port = DaemonProcess.freePort();
        String yaml = """
                exports:
                  - name: stress
                    path: "%s"
                    size: %d
                cache:
                  size: 1MiB
                  buffer-size: 16KiB
                  window-size: 64KiB
                  max-mapped: 128KiB
                  lodirtybufspace: 64KiB
                  hidirtybufspace: 256KiB
                  flushperqueue: 4
                  cluster-limit: 64KiB
                """.formatted(file, SIZE);
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("d")).yaml(yaml).metrics(port).start()) {
            ModelDriver driver = new ModelDriver(initial, seed, 4, 48 * KiB, 2, 4 * KiB, 16 * KiB, 64 * KiB);
            try {
                driver.run((i, structured) -> d.open("stress", structured), DURATION, d::isAlive);
            } catch (AssertionError e) {
                if (!d.isAlive()) {
                    throw new AssertionError("DAEMON DIED: " + e.getMessage()
                            + "\n--- daemon log ---\n" + d.log(), e);
                }
                String dump = d.threadDump();
                Files.writeString(Path.of(System.getProperty("basedir", "."), "target",
                        "WindowRetirementStressIT-threads.txt"), dump);
                throw new AssertionError(e.getMessage() + "\n--- cache metrics ---\n" + cacheMetrics(d, port)
                        + "--- daemon log ---\n" + d.log() + "\n--- thread dump in target/WindowRetirementStressIT-threads.txt", e);
            }
            assertThat(d.isAlive()).as("daemon alive after the stress (seed %d); log:\n%s", seed, d.log()).isTrue();
            try (RawClient c = d.open("stress", true)) {
                driver.verifyAll(c, 48 * KiB);
                c.request(org.bufcached.daemon.testing.NbdWire.CMD_FLUSH, 0, 0, 0).assertOk();
                driver.verifyFile(Files.readAllBytes(file));
                c.disconnect();
            }
            String atEnd = d.scrape(port);
            double unmapped = DaemonProcess.sample(atEnd, "bufcached_cache_windows_unmapped_total");
            // Retired windows wait for their grace period; once the load stops, the mapped
            // bytes must drain back under the budget (max-mapped 128 KiB) by themselves.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String now = atEnd;
            while (DaemonProcess.sample(now, "bufcached_cache_mapped_bytes") > 128 * KiB
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
                now = d.scrape(port);
            }
            System.out.println("WindowRetirementStressIT seed " + seed + ": " + driver.stats + "; windows unmapped "
                    + unmapped + "; at the end of the load: mapped "
                    + DaemonProcess.sample(atEnd, "bufcached_cache_mapped_bytes") + " bytes, "
                    + DaemonProcess.sample(atEnd, "bufcached_cache_windows_awaiting_unmap") + " windows awaiting unmap; then "
                    + DaemonProcess.sample(now, "bufcached_cache_mapped_bytes") + " bytes (max-mapped 131072)");
            assertThat(DaemonProcess.sample(now, "bufcached_cache_mapped_bytes"))
                    .as("mapped bytes back under the budget once the load stopped").isLessThanOrEqualTo(128 * KiB);
            assertThat(unmapped).as("windows unmapped during the stress").isGreaterThan(1000);
            assertThat(driver.stats.reads.sum()).as("reads checked").isGreaterThan(1000);
            assertThat(d.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM; log:\n%s", d.log()).isZero();
        }
    }

    /** The cache lines of a scrape (no histogram buckets), for failure messages. */
    private static String cacheMetrics(DaemonProcess d, int port) {
        try {
            StringBuilder b = new StringBuilder();
            for (String line : d.scrape(port).split("\n")) {
                // Leave out histogram buckets and the limits (tunables), which do not move.
                if (line.startsWith("bufcached_cache_") && !line.contains("_bucket")
                        && !line.matches("bufcached_cache_\\w+_(low|high|max|limit|size)_bytes .*")) {
                    b.append(line).append('\n');
                }
            }
            return b.toString();
        } catch (IOException | InterruptedException | RuntimeException e) {
            return "<cannot scrape metrics: " + e + ">";
        }
    }
}
