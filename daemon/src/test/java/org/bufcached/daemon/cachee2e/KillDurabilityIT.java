package org.bufcached.daemon.cachee2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.CMD_WRITE;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.bufcached.daemon.interop.DaemonProcess;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability contract, first clause: a WRITE reply means the data survives a
 * crash of the daemon. Two connections write versioned patterns to 512 slots
 * of 20000 bytes (unaligned: every slot straddles buffer boundaries), eight
 * writes in flight each, never two on one slot at once, through a small cache
 * with a high dirty watermark so that many buffers are dirty at any moment.
 * After about 4 s the daemon gets SIGKILL. Every slot must then hold the last
 * version whose WRITE was acknowledged, or the version in flight at the kill
 * (which may have landed, not landed, or landed in part) - first in the backing file read directly,
 * then through a daemon restarted on the same file.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KillDurabilityIT {
    private static final int SLOTS = 512;
    private static final int SLOT = 20000;
    private static final int BASE = 333;
    private static final long SIZE = 16L << 20;

    @TempDir
    Path tmp;

    private final int[] acked = new int[SLOTS];
    private final int[] inflight = new int[SLOTS];

    static byte[] content(int slot, int version) {
        byte[] b = new byte[SLOT];
        if (version > 0) {
            new Random(slot * 1_000_003L + version).nextBytes(b);
            b[0] = (byte) version; // never all zeroes by chance
        }
        return b;
    }

    private static long offset(int slot) {
        return BASE + (long) slot * SLOT;
    }

    @Test
    void everyAcknowledgedWriteSurvivesSigkill() throws Exception {
        Path file = tmp.resolve("dur.img");
        String yaml = """
                exports:
                  - name: dur
                    path: "%s"
                    size: %d
                cache:
                  size: 8MiB
                  buffer-size: 16KiB
                  hidirtybufspace: 4MiB
                  lodirtybufspace: 2MiB
                  window-size: 1MiB
                  max-mapped: 8MiB
                """.formatted(file, SIZE);
        Arrays.fill(inflight, -1);
        AtomicBoolean killed = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong ackCount = new AtomicLong();
        DaemonProcess d = DaemonProcess.builder(tmp.resolve("d1")).yaml(yaml).start();
        try {
            List<Thread> threads = new ArrayList<>();
            for (int conn = 0; conn < 2; conn++) {
                int me = conn;
                RawClient c = d.open("dur", me == 0);
                Thread t = new Thread(() -> {
                    Random rnd = new Random(me);
                    Map<Long, int[]> pending = new HashMap<>();
                    ArrayDeque<Integer> idle = new ArrayDeque<>();
                    for (int s = me; s < SLOTS; s += 2) {
                        idle.add(s);
                    }
                    try {
                        while (!killed.get()) {
                            while (pending.size() < 8) {
                                // a random idle slot: rotate the queue by a random amount
                                for (int k = rnd.nextInt(idle.size()); k > 0; k--) {
                                    idle.add(idle.poll());
                                }
                                int slot = idle.poll();
                                int version;
                                synchronized (acked) {
                                    version = acked[slot] + 1;
                                    inflight[slot] = version;
                                }
                                long cookie = c.send(CMD_WRITE, 0, offset(slot), SLOT, content(slot, version));
                                pending.put(cookie, new int[] {slot, version});
                            }
                            Reply r = c.readReply();
                            int[] sv = pending.remove(r.cookie());
                            if (sv == null || r.error() != 0) {
                                throw new AssertionError("unexpected reply " + r.cookie() + " error " + r.error());
                            }
                            synchronized (acked) {
                                acked[sv[0]] = sv[1];
                                inflight[sv[0]] = -1;
                            }
                            ackCount.incrementAndGet();
                            idle.add(sv[0]);
                        }
                    } catch (Throwable e) {
                        if (!killed.get()) {
                            failure.compareAndSet(null, e);
                        }
                    } finally {
                        try {
                            c.close();
                        } catch (IOException ignored) {
                            // the daemon is gone
                        }
                    }
                }, "writer-" + conn);
                threads.add(t);
                t.start();
            }
            // Kill once plenty of writes were acknowledged (and some are surely in flight).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ackCount.get() < 5000 && failure.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(failure.get()).as("writer failure before the kill").isNull();
            synchronized (acked) {
                killed.set(true);
                d.kill(); // SIGKILL while writes are in flight; acknowledgements stop here
            }
            for (Thread t : threads) {
                t.join(20_000);
            }
        } finally {
            d.kill();
        }
        long acks = ackCount.get();
        System.out.println("KillDurabilityIT: " + acks + " writes acknowledged before SIGKILL, "
                + Arrays.stream(inflight).filter(v -> v >= 0).count() + " in flight");
        assertThat(acks).as("writes acknowledged before the kill").isGreaterThan(1000);

        byte[] onDisk = Files.readAllBytes(file);
        for (int s = 0; s < SLOTS; s++) {
            byte[] got = Arrays.copyOfRange(onDisk, (int) offset(s), (int) offset(s) + SLOT);
            assertThat(matches(s, got)).as("backing file, slot %d: %s", s, describe(s, got)).isTrue();
        }
        try (DaemonProcess again = DaemonProcess.builder(tmp.resolve("d2")).yaml(yaml).start();
             RawClient c = again.open("dur", true)) {
            for (int s = 0; s < SLOTS; s++) {
                byte[] got = c.read(offset(s), SLOT).assertOk().data();
                assertThat(matches(s, got)).as("through the restarted daemon, slot %d: %s", s, describe(s, got))
                        .isTrue();
                assertThat(got).as("restarted daemon agrees with the file, slot %d", s)
                        .isEqualTo(Arrays.copyOfRange(onDisk, (int) offset(s), (int) offset(s) + SLOT));
            }
            c.disconnect();
        }
    }

    /** The acknowledged version; or, for a slot with a write in flight at the kill, any byte-wise mix of both. */
    private boolean matches(int slot, byte[] got) {
        byte[] old = content(slot, acked[slot]);
        if (inflight[slot] < 0) {
            return Arrays.equals(got, old);
        }
        byte[] next = content(slot, inflight[slot]);
        for (int i = 0; i < SLOT; i++) {
            if (got[i] != old[i] && got[i] != next[i]) {
                return false;
            }
        }
        return true;
    }

    private String describe(int slot, byte[] got) {
        for (int v = 0; v <= acked[slot] + 1; v++) {
            if (Arrays.equals(got, content(slot, v))) {
                return "holds version " + v + ", acknowledged " + acked[slot] + ", in flight " + inflight[slot];
            }
        }
        return "holds no version written (first byte 0x" + Integer.toHexString(got[0] & 0xff) + "), acknowledged "
                + acked[slot] + ", in flight " + inflight[slot];
    }
}
