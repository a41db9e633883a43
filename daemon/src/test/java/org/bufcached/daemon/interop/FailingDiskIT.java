package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLAG_FUA;
import static org.bufcached.daemon.testing.NbdWire.CMD_FLUSH;

import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durability contract on a real failing disk. The disk is nbdkit's memory
 * plugin behind its error filter (every request fails with EIO while a file
 * exists, switched at run time), seen through nbdfuse and a loop device in direct
 * I/O mode; ext4 on it; the export's file on that ext4. So write-back errors
 * reach the daemon exactly as from a dying disk: through sync_file_range and
 * fdatasync, once per open file description, with the failed pages marked clean.
 *
 * <p>With the disk failing: a cold READ gets EIO and the connection goes on;
 * acknowledged writes fail in the flushers' write-back; FLUSH and FUA answer EIO,
 * again and again, and /readyz names the export. Once the disk is back: FLUSH
 * answers OK only after the data in doubt was written again, and every block
 * acknowledged is in the file after ext4 is unmounted and mounted again: the check
 * reads the file system, not the daemon.
 *
 * <p>ext4 is mounted with a long commit interval so that no journal commit falls
 * inside the failing windows: a failed commit aborts the journal and remounts the
 * file system read-only, a different (well-known) story than this test tells.
 *
 * <p>The acknowledged blocks are kept mapped by the test while the disk fails. A
 * page whose write-back failed is clean, and the kernel may evict it before the
 * recovery writes it again; then it is lost, and the daemon says so (FLUSH keeps
 * answering EIO). These machines evict without memory pressure: DAMON pages out
 * page-cache pages that no process maps once their memory region looks cold.
 * The mapping keeps that out of this test, which is about the daemon's answers.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class FailingDiskIT {
    private static final int BLOCK = 64 * 1024;
    private static final int BLOCKS = 128;
    private static final long FILE_SIZE = 32 * MiB;

    @TempDir
    Path tmp;

    private Path errorFile;
    /** The acknowledged blocks, mapped while the disk fails. */
    private MappedByteBuffer pinned;

    @BeforeEach
    void tools() {
        FuseLoopStack.requireTools();
        Tool.require("nbdkit", "nbdkit");
    }

    @Test
    void writeBackErrorsReachTheClientAndNothingAcknowledgedIsLost() throws Exception {
        errorFile = tmp.resolve("disk-fails");
        Path log = tmp.resolve("nbdkit.log");
        Path socket = tmp.resolve("nbdkit.sock");
        Process nbdkit = Tool.background(log, "nbdkit", "-f", "-U", socket.toString(), "--filter=error",
                "memory", "256M", "error-rate=100%", "error-file=" + errorFile, "error=EIO");
        awaitSocket(nbdkit, socket, log);
        FuseLoopStack stack = null;
        try {
            stack = FuseLoopStack.start(tmp, "nbd+unix:///?socket=" + socket, true);
            stack.mkfs();
            stack.mount("-o", "commit=600");
            // The export's file, written whole (no allocation later), then cold: mount again.
            Path image = stack.mountDir().resolve("export.img");
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.write(new byte[(int) FILE_SIZE]);
                f.getFD().sync();
            }
            stack.umount();
            stack.mount("-o", "commit=600");
            run(stack, image);
        } finally {
            Files.deleteIfExists(errorFile);
            unpin();
            if (stack != null) {
                stack.cleanUp();
            }
            nbdkit.destroy();
            if (!nbdkit.waitFor(20, TimeUnit.SECONDS)) {
                Tool.killTree(nbdkit.toHandle());
            }
        }
    }

    private void run(FuseLoopStack stack, Path image) throws Exception {
        int metrics = DaemonProcess.freePort();
        Map<Long, byte[]> acknowledged = new LinkedHashMap<>();
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).metrics(metrics)
                .yaml("exports:\n  - name: disk\n    path: \"" + image + "\"\n"
                        + "cache:\n  size: 16MiB\n  sync-interval: 0\n").start();
             RawClient c = d.open("disk", true)) {
            // FLUSH and FUA wait for the disk (the recovery, then fdatasync through ext4, the loop
            // device, FUSE and nbdkit): seconds on a loaded machine. The bound is liveness.
            c.patience(Duration.ofSeconds(60));
            failing(true);

            // (d) A cold READ fails with EIO; the connection goes on.
            c.read(30 * MiB, BLOCK).assertError(5);
            // (a) Writes are acknowledged: they are in the page cache.
            // Each block mapped as soon as it is written: still dirty, so in memory (see the class comment).
            try (FileChannel ch = FileChannel.open(image)) {
                pinned = ch.map(FileChannel.MapMode.READ_ONLY, 0, FILE_SIZE);
            }
            for (int i = 0; i < BLOCKS; i++) {
                long offset = (long) i * 2 * BLOCK;
                byte[] data = TestData.random(100 + i, BLOCK);
                c.write(offset, data).assertOk();
                acknowledged.put(offset, data);
                for (int at = 0; at < BLOCK; at += 4096) {
                    pinned.get((int) offset + at);
                }
            }
            // The flushers' write-back meets the failing disk.
            awaitMetricAbove(d, metrics, "bufcached_cache_writeback_errors_total", 0);
            // (b) FLUSH fails, and fails again: the kernel would let the second fdatasync succeed.
            long asked = System.nanoTime();
            Reply first = c.request(CMD_FLUSH, 0, 0, 0);
            System.out.printf("FailingDiskIT: the first FLUSH on the failing disk was answered after %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - asked));
            assertThat(first.error()).as("FLUSH while the disk fails").isEqualTo(5);
            assertThat(first.errorMessage()).isNotEmpty();
            assertThat(c.request(CMD_FLUSH, 0, 0, 0).error()).as("a second FLUSH").isEqualTo(5);
            // (c) A FUA write fails too.
            assertThat(c.write(20 * MiB, TestData.random(7, BLOCK), CMD_FLAG_FUA).error()).as("FUA WRITE").isEqualTo(5);
            // Not ready while data is in doubt, and the export is named.
            String readyz = httpGet(metrics, "/readyz");
            assertThat(readyz).startsWith("503").contains("export disk");
            assertThat(d.log()).contains("export disk: ", "failed with EIO");

            // (e) The disk is back. A FLUSH rewrites what was in doubt and proves it. A write-back the
            // flushers started while the disk failed may still fail after that FLUSH began: its pages
            // are in doubt again and that FLUSH rightly answers EIO. The next one proves them.
            failing(false);
            Reply back = c.request(CMD_FLUSH, 0, 0, 0);
            for (int retries = 0; back.error() != 0 && retries < 3; retries++) {
                assertThat(back.error()).as("a FLUSH that cannot prove everything").isEqualTo(5);
                System.out.printf("FailingDiskIT: a FLUSH after the disk came back answered EIO: %s%n",
                        back.errorMessage());
                back = c.request(CMD_FLUSH, 0, 0, 0);
            }
            back.assertOk();
            assertThat(httpGet(metrics, "/readyz")).startsWith("200");
            assertThat(d.log()).contains("durability restored");
            unpin();
            // Acknowledged data reads back through the daemon, too.
            for (Map.Entry<Long, byte[]> e : acknowledged.entrySet()) {
                assertThat(c.read(e.getKey(), BLOCK).assertOk().data()).as("block at %d", e.getKey())
                        .isEqualTo(e.getValue());
            }
            c.disconnect();
        }
        // The file system itself, mounted again: no page cache of the file survives this.
        stack.umount();
        stack.mount("-o", "ro");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            for (Map.Entry<Long, byte[]> e : acknowledged.entrySet()) {
                byte[] got = new byte[BLOCK];
                f.seek(e.getKey());
                f.readFully(got);
                assertThat(got).as("acknowledged block at %d, on the remounted file system", e.getKey())
                        .isEqualTo(e.getValue());
            }
        }
        stack.umount();
    }

    /** Unmapped now, not at some garbage collection: the file system is unmounted next. */
    private void unpin() throws Exception {
        if (pinned == null) {
            return;
        }
        Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
        Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
        theUnsafe.setAccessible(true);
        unsafeClass.getMethod("invokeCleaner", java.nio.ByteBuffer.class).invoke(theUnsafe.get(null), pinned);
        pinned = null;
    }

    private void failing(boolean on) throws Exception {
        if (on) {
            Files.writeString(errorFile, "");
        } else {
            Files.deleteIfExists(errorFile);
        }
    }

    private static void awaitSocket(Process nbdkit, Path socket, Path log) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket)) {
            if (!nbdkit.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("nbdkit did not start: " + Tool.text(log));
            }
            Thread.sleep(20);
        }
    }

    private static void awaitMetricAbove(DaemonProcess d, int port, String name, double floor) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        double sum = -1;
        while (System.nanoTime() < deadline) {
            sum = 0;
            for (String line : d.scrape(port).split("\n")) {
                if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            if (sum > floor) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + " stayed at " + sum + "\n" + d.log());
    }

    /** "STATUS body" of a GET on the metrics endpoint. */
    private static String httpGet(int port, String path) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }
}
