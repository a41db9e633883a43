package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** QEMU's NBD client (Debian qemu-utils): qemu-img info, compare and convert, and qemu-io. */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class QemuToolsIT {
    private static final long SIZE = 64 * MiB;

    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        Tool.require("qemu-img", "qemu-utils");
    }

    private DaemonProcess twoExports() throws Exception {
        return DaemonProcess.builder(tmp.resolve("daemon")).export("a", SIZE).export("b", SIZE)
                .export("small", 3 * MiB + 512).start();
    }

    /** A local raw image: random data in a few ranges, some unaligned, the rest sparse. */
    private Path localImage(String name) throws Exception {
        return TestData.sparseFile(tmp.resolve(name), SIZE, 7,
                new long[] {0, 4 * MiB + 1, 30 * MiB - 100, SIZE - 4096},
                new int[] {65536, 2 * (int) MiB, 200, 4096});
    }

    @Test
    void infoShowsTheVirtualSize() throws Exception {
        try (DaemonProcess d = twoExports()) {
            Tool.Result json = Tool.run("qemu-img", "info", "--output=json", d.uri("a")).assertOk();
            assertThat(json.stdout()).containsPattern("\"virtual-size\":\\s*" + SIZE + ",");
            Tool.Result text = Tool.run("qemu-img", "info", d.uri("small")).assertOk();
            assertThat(text.stdout()).contains("virtual size: 3 MiB (" + (3 * MiB + 512) + " bytes)")
                    .contains("file format: raw");
        }
    }

    @Test
    void compareTheExportWithALocalFile() throws Exception {
        Path local = localImage("local.img");
        try (DaemonProcess d = twoExports()) {
            Tool.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", local.toString(), d.uri("a")).assertOk();
            Tool.Result same = Tool.run("qemu-img", "compare", "-f", "raw", "-F", "raw", d.uri("a"), local.toString());
            assertThat(same.assertOk().stdout()).contains("Images are identical.");

            // One changed byte in the local copy must be found, at its 512-byte sector.
            try (RandomAccessFile raf = new RandomAccessFile(local.toFile(), "rw")) {
                raf.seek(30 * MiB + 50);
                int b = raf.read();
                raf.seek(30 * MiB + 50);
                raf.write(b ^ 0xff);
            }
            Tool.Result differ = Tool.run("qemu-img", "compare", "-f", "raw", "-F", "raw", d.uri("a"), local.toString());
            assertThat(differ.exitCode()).as(differ.describe()).isEqualTo(1);
            assertThat(differ.stdout()).contains("Content mismatch at offset " + (30 * MiB));
        }
    }

    @Test
    void convertExportToQcow2AndBackIntoAnotherExport() throws Exception {
        Path local = localImage("local.img");
        Path qcow2 = tmp.resolve("copy.qcow2");
        try (DaemonProcess d = twoExports()) {
            Tool.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", local.toString(), d.uri("a")).assertOk();
            Tool.run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", d.uri("a"), qcow2.toString()).assertOk();
            Tool.run("qemu-img", "check", qcow2.toString()).assertOk();
            assertThat(Tool.run("qemu-img", "info", "--output=json", qcow2.toString()).assertOk().stdout())
                    .containsPattern("\"virtual-size\":\\s*" + SIZE + ",");
            Tool.run("qemu-img", "convert", "-n", "-f", "qcow2", "-O", "raw", qcow2.toString(), d.uri("b")).assertOk();

            Tool.run("qemu-img", "compare", "-f", "raw", "-F", "raw", d.uri("a"), d.uri("b")).assertOk();
            Tool.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", qcow2.toString(), d.uri("b")).assertOk();
            Tool.run("qemu-img", "compare", "-f", "raw", "-F", "raw", d.uri("b"), local.toString()).assertOk();
        }
    }

    @Test
    void qemuIoWritesAndReadsPatternsAtAlignedAndUnalignedOffsets() throws Exception {
        Tool.require("qemu-io", "qemu-utils");
        // offset, length, pattern
        long[][] writes = {
            {0, 4096, 0x11},
            {12_345, 777, 0x22},
            {MiB - 1, 2, 0x33},             // across a 1 MiB boundary
            {5 * MiB + 3, 2 * MiB + 5, 0x44}, // unaligned start and end, several buffers
            {SIZE - 513, 513, 0x55},        // up to the last byte
            {40 * MiB, 65536, 0x66},
        };
        try (DaemonProcess d = twoExports()) {
            List<String> write = new ArrayList<>();
            for (long[] w : writes) {
                write.add("write -P " + w[2] + " " + w[0] + " " + w[1]);
            }
            write.add("write -z " + (40 * MiB + 4096) + " 4096");   // zero inside the 0x66 range
            write.add("discard " + (40 * MiB + 8192) + " 8192");    // and trim inside it
            write.add("flush");
            Tool.Result w = qemuIo(d.uri("a"), write).assertOk();
            assertThat(w.stdout()).contains("wrote 777/777 bytes at offset 12345");

            // Read back on a new connection: each pattern, and zeros around and inside.
            List<String> read = new ArrayList<>();
            for (long[] r : writes) {
                if (r[0] != 40 * MiB) {
                    read.add("read -P " + r[2] + " " + r[0] + " " + r[1]);
                }
            }
            read.addAll(List.of(
                    "read -P 0x66 " + 40 * MiB + " 4096",
                    "read -P 0 " + (40 * MiB + 4096) + " " + (3 * 4096),
                    "read -P 0x66 " + (40 * MiB + 4 * 4096) + " " + (65536 - 4 * 4096),
                    "read -P 0 4096 8249",                  // between the first two writes
                    "read -P 0 " + (12_345 + 777) + " 100",
                    "read -P 0 " + (SIZE - 1024) + " 511"));
            Tool.Result r = qemuIo(d.uri("a"), read).assertOk();
            assertThat(r.stdout()).doesNotContain("Pattern verification failed")
                    .contains("read 777/777 bytes at offset 12345");

            // A wrong expectation must fail: the check is real.
            Tool.Result wrong = qemuIo(d.uri("a"), List.of("read -P 0x23 12345 777")).assertFails();
            assertThat(wrong.stdout() + wrong.stderr()).contains("Pattern verification failed at offset 12345");
            qemuIo(d.uri("a"), List.of("read -P 0x33 " + (MiB - 2) + " 2")).assertFails();
        }
    }

    /** {@code qemu-io -f raw -c CMD... URI}: one connection running the commands in order. */
    private static Tool.Result qemuIo(String uri, List<String> commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(uri);
        return Tool.run(Tool.DEFAULT_TIMEOUT, null, cmd);
    }
}
