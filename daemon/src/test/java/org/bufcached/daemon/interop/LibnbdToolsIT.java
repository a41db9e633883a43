package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** libnbd's command line tools (Debian libnbd-bin): nbdinfo and nbdcopy against the daemon. */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LibnbdToolsIT {
    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        Tool.require("nbdinfo", "libnbd-bin");
    }

    private DaemonProcess threeExports(boolean tcp) throws Exception {
        DaemonProcess.Builder b = DaemonProcess.builder(tmp.resolve("daemon"))
                .export("disk0", 64 * MiB, false, "first disk")
                .export("scratch", 16 * MiB, false, "scratch space, ünïcode ✓")
                .export("ro", 8 * MiB, true, "read-only disk");
        return (tcp ? b.tcp() : b).start();
    }

    @Test
    void listShowsEveryExportWithItsSizeAndDescription() throws Exception {
        try (DaemonProcess d = threeExports(false)) {
            Tool.Result r = Tool.run("nbdinfo", "--list", "nbd+unix://?socket=" + d.socket()).assertOk();
            assertListing(r.stdout(), d);
        }
    }

    @Test
    void listOverTcpAndTheDefaultExportName() throws Exception {
        try (DaemonProcess d = threeExports(true)) {
            String base = "nbd://127.0.0.1:" + d.tcpPort();
            assertListing(Tool.run("nbdinfo", "--list", base).assertOk().stdout(), d);
            // The empty export name "" is the default export: the first one, disk0.
            assertThat(Tool.run("nbdinfo", "--size", base).assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(64 * MiB));
            assertThat(Tool.run("nbdinfo", "--size", base + "/").assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(64 * MiB));
            assertThat(Tool.run("nbdinfo", "--size", "nbd+unix:///?socket=" + d.socket()).assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(64 * MiB));
            assertThat(Tool.run("nbdinfo", "--size", d.tcpUri("scratch")).assertOk().stdout().strip())
                    .isEqualTo(String.valueOf(16 * MiB));
            Tool.Result info = Tool.run("nbdinfo", base).assertOk();
            assertThat(info.stdout()).contains("export-size: " + 64 * MiB);
            // An export that does not exist is refused during the handshake.
            Tool.Result missing = Tool.run("nbdinfo", "--size", d.tcpUri("nosuch")).assertFails();
            assertThat(missing.stderr()).isNotEmpty();
        }
    }

    @Test
    void sizeOfEachExport() throws Exception {
        try (DaemonProcess d = threeExports(false)) {
            for (String name : List.of("disk0", "scratch", "ro")) {
                Tool.Result r = Tool.run("nbdinfo", "--size", d.uri(name)).assertOk();
                assertThat(r.stdout().strip()).as("nbdinfo --size %s", name)
                        .isEqualTo(String.valueOf(d.export(name).size()));
            }
            assertThat(Tool.run("nbdinfo", "--is", "read-only", d.uri("ro")).exitCode()).isZero();
            assertThat(Tool.run("nbdinfo", "--is", "read-only", d.uri("disk0")).exitCode()).isEqualTo(2);
        }
    }

    @Test
    void mapShowsDataAndHolesAfterWritesAndATrim() throws Exception {
        Tool.requirePythonNbd(); // nbdsh
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", 64 * MiB).start()) {
            Tool.Result before = Tool.run("nbdinfo", "--map", d.uri("disk0")).assertOk();
            assertThat(mapLines(before.stdout())).containsExactly(0 + " " + 64 * MiB + " 3 hole,zero");

            Tool.nbdsh("-u", d.uri("disk0"), "-c", String.join("\n",
                    "h.pwrite(b'\\xaa' * (2 << 20), 1 << 20)",
                    "h.pwrite(b'\\xbb' * (1 << 20), 8 << 20)",
                    "h.pwrite(b'\\xcc' * (4 << 20), 16 << 20)",
                    "h.trim(1 << 20, 17 << 20)")).assertOk();

            Tool.Result after = Tool.run("nbdinfo", "--map", d.uri("disk0")).assertOk();
            assertThat(mapLines(after.stdout())).containsExactly(
                    "0 1048576 3 hole,zero",
                    "1048576 2097152 0 data",
                    "3145728 5242880 3 hole,zero",
                    "8388608 1048576 0 data",
                    "9437184 7340032 3 hole,zero",
                    "16777216 1048576 0 data",
                    "17825792 1048576 3 hole,zero",
                    "18874368 2097152 0 data",
                    "20971520 46137344 3 hole,zero");

            // The trimmed range reads back as zeros, its neighbours keep their data.
            Tool.nbdsh("-u", d.uri("disk0"), "-c", String.join("\n",
                    "assert h.pread(1 << 20, 17 << 20) == bytes(1 << 20)",
                    "assert h.pread(1 << 20, 16 << 20) == b'\\xcc' * (1 << 20)",
                    "assert h.pread(2 << 20, 18 << 20) == b'\\xcc' * (2 << 20)")).assertOk();

            Tool.Result totals = Tool.run("nbdinfo", "--map", "--totals", d.uri("disk0")).assertOk();
            assertThat(mapLines(totals.stdout())).containsExactly("6291456 9.4% 0 data", "60817408 90.6% 3 hole,zero");
        }
    }

    @Test
    void nbdcopyFileToExportToFile() throws Exception {
        Tool.require("nbdcopy", "libnbd-bin");
        long size = 64 * MiB;
        Path src = TestData.sparseFile(tmp.resolve("src.img"), size, 42,
                new long[] {0, 5 * MiB + 123, 20 * MiB, size - 70_000},
                new int[] {300_000, 3 * (int) MiB, 1, 70_000});
        Path back = tmp.resolve("back.img");
        String expected = TestData.sha256(src);
        Path backing;
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("disk0", size).start()) {
            backing = d.file("disk0");
            Tool.run("nbdcopy", src.toString(), d.uri("disk0")).assertOk();
            Tool.run("nbdcopy", d.uri("disk0"), back.toString()).assertOk();
            assertThat(TestData.sha256(back)).as("sha256 of file -> export -> file").isEqualTo(expected);
            // a second connection through nbdcopy's own multi-connection mode
            Path back2 = tmp.resolve("back2.img");
            Tool.run("nbdcopy", "--connections=4", "--requests=16", d.uri("disk0"), back2.toString()).assertOk();
            assertThat(TestData.sha256(back2)).isEqualTo(expected);
        }
        // After the graceful stop the backing file holds exactly what was written.
        assertThat(TestData.sha256(backing)).as("sha256 of the backing file after SIGTERM").isEqualTo(expected);
    }

    /** nbdinfo --map's lines with runs of white space collapsed. */
    private static List<String> mapLines(String out) {
        return out.lines().map(String::strip).filter(l -> !l.isEmpty())
                .map(l -> String.join(" ", l.split("\\s+"))).collect(Collectors.toList());
    }

    /** Asserts nbdinfo --list's text shows each export of {@code d} with its size, description and mode. */
    private static void assertListing(String out, DaemonProcess d) {
        Map<String, String> blocks = new LinkedHashMap<>();
        String[] parts = out.split("(?m)^export=");
        for (String part : Arrays.asList(parts).subList(1, parts.length)) {
            String name = part.substring(1, part.indexOf('"', 1));
            blocks.put(name, part);
        }
        assertThat(blocks.keySet()).as("exports listed in\n%s", out).containsExactly("disk0", "scratch", "ro");
        for (Map.Entry<String, String> e : blocks.entrySet()) {
            DaemonProcess.ExportSpec spec = d.export(e.getKey());
            assertThat(e.getValue()).as("listing of %s", e.getKey())
                    .contains("description: " + spec.description() + "\n")
                    .contains("export-size: " + spec.size() + " ")
                    .contains("is_read_only: " + spec.readonly() + "\n")
                    .contains("base:allocation")
                    .contains("block_size_minimum: 1\n")
                    .contains("block_size_preferred: 4096\n")
                    .contains("block_size_maximum: 67108864\n");
        }
    }
}
