package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many clients sending large writes at once to a daemon whose JVM has little
 * direct memory: the payload memory budget (half of -XX:MaxDirectMemorySize by
 * default) makes connections wait instead of failing, so every write succeeds,
 * nothing runs out of memory, the budget is never exceeded, and the data is on
 * disk afterwards.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PayloadMemoryIT {
    private static final int CLIENTS = 16;
    private static final int WRITES_PER_CLIENT = 3;
    private static final int PAYLOAD = 8 * (int) MiB;
    /** Half of the daemon's 64 MiB of direct memory. */
    private static final long BUDGET = 32 * MiB;

    @TempDir
    Path tmp;

    @Test
    void manyClientsWritingLargePayloadsAtOnceWaitForMemoryAndAllSucceed() throws Exception {
        long size = (long) CLIENTS * WRITES_PER_CLIENT * PAYLOAD;
        DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", size)
                .jvm("-XX:MaxDirectMemorySize=64m").metrics(DaemonProcess.freePort()).start();
        try (d) {
            assertThat(d.metric("bufcached_payload_memory_limit_bytes")).isEqualTo(BUDGET);
            AtomicBoolean writing = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
            try {
                Future<Double> peak = pool.submit(() -> peakReserved(d, writing));
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        writeAll(d, client);
                        return null;
                    }));
                }
                for (Future<?> f : clients) {
                    f.get(2, TimeUnit.MINUTES);
                }
                writing.set(false);
                assertThat(peak.get(1, TimeUnit.MINUTES)).as("payload bytes reserved at any scrape")
                        .isLessThanOrEqualTo(BUDGET);
            } finally {
                pool.shutdownNow();
            }
            assertThat(d.metric("bufcached_payload_memory_waits_total")).as("connections that had to wait")
                    .isPositive();
            assertThat(d.metric("bufcached_payload_memory_reserved_bytes")).as("all returned").isZero();
        }
        assertThat(d.log()).doesNotContain("OutOfMemoryError").doesNotContain("OutOfDirectMemoryError")
                .doesNotContain("protocol error");
        try (RandomAccessFile file = new RandomAccessFile(d.file("disk0").toFile(), "r")) {
            byte[] onDisk = new byte[PAYLOAD];
            for (int c = 0; c < CLIENTS; c++) {
                for (int i = 0; i < WRITES_PER_CLIENT; i++) {
                    file.seek(offset(c, i));
                    file.readFully(onDisk);
                    assertThat(onDisk).as("write %d of client %d on disk", i, c).isEqualTo(payload(c, i));
                }
            }
        }
    }

    /** One client: all its writes in flight at once, then their replies. */
    private static void writeAll(DaemonProcess d, int client) throws IOException {
        try (RawClient c = RawClient.connect(UnixDomainSocketAddress.of(d.socket())).handshake().enter("disk0")) {
            for (int i = 0; i < WRITES_PER_CLIENT; i++) {
                c.sendWrite(offset(client, i), payload(client, i), 0);
            }
            for (int i = 0; i < WRITES_PER_CLIENT; i++) {
                Reply r = c.readReply();
                r.assertOk();
            }
        }
    }

    /** Scrapes the reserved payload bytes while the clients write, and returns the highest seen. */
    private static double peakReserved(DaemonProcess d, AtomicBoolean writing) throws Exception {
        double peak = 0;
        while (writing.get()) {
            peak = Math.max(peak, d.metric("bufcached_payload_memory_reserved_bytes"));
        }
        return peak;
    }

    private static long offset(int client, int write) {
        return ((long) client * WRITES_PER_CLIENT + write) * PAYLOAD;
    }

    private static byte[] payload(int client, int write) {
        byte[] b = new byte[PAYLOAD];
        new Random(client * 1000L + write).nextBytes(b);
        return b;
    }
}
