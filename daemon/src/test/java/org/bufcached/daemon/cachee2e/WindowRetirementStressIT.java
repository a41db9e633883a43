package org.bufcached.daemon.cachee2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
        long seed = CacheModelTest.seed();
        System.out.println("WindowRetirementStressIT seed " + seed + " (rerun with -Dcachee2e.seed=" + seed + ")");
        byte[] initial = new byte[SIZE];
        new Random(seed).nextBytes(initial);
        Path file = tmp.resolve("stress.img");
        Files.write(file, initial);
        int port = DaemonProc.freePort();
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
                  io-workers: 4
                """.formatted(file, SIZE);
        try (DaemonProc d = DaemonProc.start(tmp.resolve("d"), yaml, port)) {
            ModelDriver driver = new ModelDriver(initial, seed, 4, 48 * KiB, 2, 4 * KiB, 16 * KiB, 64 * KiB);
            long start = System.nanoTime();
            try {
                driver.run((i, structured) -> d.open("stress", structured), DURATION, d::isAlive);
            } catch (AssertionError e) {
                if (!d.isAlive()) {
                    throw new AssertionError("DAEMON DIED (exit " + d.process().exitValue() + "): " + e.getMessage()
                            + "\n--- daemon log ---\n" + d.log(), e);
                }
                String dump = d.threadDump();
                Files.writeString(Path.of(System.getProperty("basedir", "."), "target",
                        "WindowRetirementStressIT-threads.txt"), dump);
                throw new AssertionError(e.getMessage() + "\n--- cache metrics ---\n" + DaemonProc.cacheMetrics(port)
                        + "--- daemon log ---\n" + d.log() + "\n--- thread dump in target/WindowRetirementStressIT-threads.txt", e);
            }
            long ran = System.nanoTime() - start;
            assertThat(d.isAlive()).as("daemon alive after the stress (seed %d); log:\n%s", seed, d.log()).isTrue();
            assertThat(Duration.ofNanos(ran)).as("stress duration").isGreaterThanOrEqualTo(Duration.ofSeconds(30));
            try (RawClient c = d.open("stress", true)) {
                driver.verifyAll(c, 48 * KiB);
                c.request(org.bufcached.daemon.testing.NbdWire.CMD_FLUSH, 0, 0, 0).assertOk();
                driver.verifyFile(Files.readAllBytes(file));
                c.disconnect();
            }
            double unmapped = DaemonProc.metric(port, "bufcached_cache_windows_unmapped_total");
            double mapped = DaemonProc.metric(port, "bufcached_cache_mapped_bytes");
            double retired = DaemonProc.metric(port, "bufcached_cache_windows_awaiting_unmap");
            Thread.sleep(2000);
            System.out.println("WindowRetirementStressIT seed " + seed + ": " + driver.stats + "; windows unmapped "
                    + unmapped + "; at the end of the load: mapped " + mapped + " bytes, " + retired
                    + " windows awaiting unmap; 2 s idle later: mapped "
                    + DaemonProc.metric(port, "bufcached_cache_mapped_bytes") + " bytes, "
                    + DaemonProc.metric(port, "bufcached_cache_windows_awaiting_unmap") + " awaiting unmap"
                    + " (max-mapped 131072)");
            assertThat(unmapped).as("windows unmapped during the stress").isGreaterThan(1000);
            assertThat(driver.stats.reads.sum()).as("reads checked").isGreaterThan(1000);
            assertThat(d.terminate()).as("exit code after SIGTERM; log:\n%s", d.log()).isZero();
        }
    }
}
