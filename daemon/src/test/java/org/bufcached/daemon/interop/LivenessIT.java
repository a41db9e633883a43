package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Liveness, as a file system with discard uses a disk: one connection, 64 requests
 * in flight, a mix of 256 KiB WRITE, TRIM, WRITE_ZEROES and READ over a hot 1 MiB
 * region (python3-libnbd, aio). Overlapping requests contend for the same buffers
 * all the time: none may wait for ever, and the connection may never go two
 * seconds without an answer. And SIGTERM in the middle of it stops the daemon
 * within its bound (limits.shutdown-timeout, then each export's close).
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class LivenessIT {
    private static final long GiB = 1L << 30;
    private static final Pattern RESULT = Pattern.compile(
            "completed=(\\d+) errors=(\\d+) in_flight=(\\d+) max_gap=([0-9.]+)");

    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        Tool.requirePythonNbd();
    }

    @Test
    void mixedOverlappingRequestsNeverStallOnTheDefaultConfiguration() throws Exception {
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("d")).export("hot", GiB).start()) {
            assertLive(load(d, 20));
        }
    }

    /** A cache of 64 buffers and a single blocking thread: every lock and every buffer is contended. */
    @Test
    void mixedOverlappingRequestsNeverStallOnATinyCacheWithOneWorker() throws Exception {
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("d")).export("hot", GiB)
                .yaml("cache:\n  size: 4MiB\nio:\n  workers: 1\n").start()) {
            assertLive(load(d, 20));
        }
    }

    @Test
    void sigtermDuringTheLoadStopsWithinTheBound() throws Exception {
        int metrics = DaemonProcess.freePort();
        DaemonProcess d = DaemonProcess.builder(tmp.resolve("d")).export("hot", GiB).metrics(metrics)
                .yaml("cache:\n  size: 4MiB\nlimits:\n  shutdown-timeout: 5s\n").start();
        Path script = script();
        Path out = tmp.resolve("load.out");
        Process load = Tool.background(out, Tool.PYTHON, script.toString(), d.uri("hot"), "60", "64");
        try {
            // Stop in the middle of it: once the daemon has answered a good many requests.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (answered(d, metrics) < 2000 && load.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(load.isAlive()).as("the load is still running: %s", Tool.text(out)).isTrue();
            int exit = d.terminate(Duration.ofSeconds(5 + 2 * 10 + 15));
            assertThat(exit).as("exit code after SIGTERM under load (-1: still running after the bound)\n%s",
                    d.log()).isZero();
            assertThat(d.log()).contains("shutting down", "stopped");
        } finally {
            if (!load.waitFor(30, TimeUnit.SECONDS)) {
                Tool.killTree(load.toHandle());
            }
            d.close();
        }
    }

    private Path script() throws IOException {
        Path script = tmp.resolve("liveness.py");
        try (InputStream in = LivenessIT.class.getResourceAsStream("liveness.py")) {
            Files.write(script, in.readAllBytes());
        }
        return script;
    }

    private String load(DaemonProcess d, int seconds) throws IOException {
        Path script = script();
        Tool.Result r = Tool.run(Duration.ofSeconds(seconds + 60), tmp, java.util.List.of(Tool.PYTHON,
                script.toString(), d.uri("hot"), String.valueOf(seconds), "64"));
        r.assertOk();
        return r.stdout().strip();
    }

    private static void assertLive(String result) {
        Matcher m = RESULT.matcher(result);
        assertThat(m.find()).as("load result: %s", result).isTrue();
        System.out.println("LivenessIT: " + result);
        assertThat(Long.parseLong(m.group(1))).as("requests answered").isGreaterThan(1000);
        assertThat(Long.parseLong(m.group(2))).as("requests answered with an error").isZero();
        assertThat(Long.parseLong(m.group(3))).as("requests never answered").isZero();
        assertThat(Double.parseDouble(m.group(4))).as("longest time without an answer, in seconds")
                .isLessThan(2.0);
    }

    /** Requests answered so far, over every command. */
    private static double answered(DaemonProcess d, int port) throws IOException, InterruptedException {
        double sum = 0;
        for (String line : d.scrape(port).split("\n")) {
            if (line.startsWith("bufcached_requests_total{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
