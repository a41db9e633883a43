package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.bufcached.daemon.testing.AdminSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dirty bitmaps with real peers: the ranges qemu-io and nbdcopy write are
 * exactly what {@code nbdinfo --map=qemu:dirty-bitmap:b} and qemu-img map (with
 * x-dirty-bitmap) report, at the bitmap's granularity; an incremental backup
 * made with python3-libnbd from the dirty extents only rebuilds the export byte
 * for byte; a clear through the admin socket empties the bitmap and later
 * writes mark it again; SIGTERM and SIGKILL lose no bit.
 */
class DirtyBitmapIT {
    private static final long K64 = 64 * 1024;
    private static final long SIZE = 64 * DaemonProcess.MiB;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private DaemonProcess start() throws IOException {
        return DaemonProcess.builder(dir).export("d", SIZE, false, "bitmap test")
                .exportYaml("d", "    bitmaps: [b, {name: coarse, granularity: 1MiB}]\n")
                .args("--admin-socket", dir.resolve("admin.sock").toString()).start();
    }

    @Test
    void writesAreTrackedBackedUpIncrementallyAndSurviveRestarts() throws Exception {
        Tool.require("qemu-io", "qemu-utils");
        Tool.require("qemu-img", "qemu-utils");
        Tool.require("nbdinfo", "libnbd-bin");
        Tool.require("nbdcopy", "libnbd-bin");
        Tool.requirePythonNbd();
        Granules expected = new Granules(K64);
        Granules coarse = new Granules(DaemonProcess.MiB);
        try (DaemonProcess d = start()) {
            String uri = d.uri("d");
            qemuIo(d, expected, coarse, "write -P 0x11 1048576 4096", 1048576, 4096);
            qemuIo(d, expected, coarse, "write -P 0x22 10486272 204800", 10486272, 204800);
            assertThat(Tool.run("nbdinfo", "--list", uri).assertOk().stdout()).contains("qemu:dirty-bitmap:b")
                    .contains("qemu:dirty-bitmap:coarse").contains("base:allocation");
            assertThat(nbdinfoMap(uri, "b")).isEqualTo(expected.runs(SIZE));
            assertThat(nbdinfoMap(uri, "coarse")).isEqualTo(coarse.runs(SIZE));
            assertThat(qemuImgMap(d, "b")).isEqualTo(expected.runs(SIZE));

            // The backup cycle: clear, full copy, more changes, then copy only what is dirty.
            JsonNode cleared = new AdminSocket(dir.resolve("admin.sock")).post("/v1/exports/d/bitmaps/b/clear", "")
                    .expect(200).body();
            assertThat(cleared.path("dirty_bytes").asLong(-1)).isZero();
            assertThat(nbdinfoMap(uri, "b")).isEmpty();
            Path full = dir.resolve("full.img");
            Tool.run("nbdcopy", uri, full.toString()).assertOk();
            expected = new Granules(K64);
            qemuIo(d, expected, coarse, "write -P 0x33 33554432 512", 33554432, 512);
            qemuIo(d, expected, coarse, "discard 1048576 65536", 1048576, 65536);
            qemuIo(d, expected, coarse, "write -z 50331648 131072", 50331648, 131072);
            Path source = dir.resolve("source.img");
            try (RandomAccessFile raf = new RandomAccessFile(source.toFile(), "rw")) {
                raf.setLength(SIZE);
                raf.seek(20 * DaemonProcess.MiB);
                raf.write(TestData.random(7, 3 * (int) K64));
                raf.seek(40 * DaemonProcess.MiB + K64);
                raf.write(TestData.random(9, (int) K64));
            }
            Tool.run("nbdcopy", "--destination-is-zero", source.toString(), uri).assertOk();
            for (Granules g : List.of(expected, coarse)) {
                g.add(20 * DaemonProcess.MiB, 3 * K64);
                g.add(40 * DaemonProcess.MiB + K64, K64);
            }
            assertThat(nbdinfoMap(uri, "b")).isEqualTo(expected.runs(SIZE));
            assertThat(qemuImgMap(d, "b")).isEqualTo(expected.runs(SIZE));

            String backup = Tool.python(dir, "incremental-backup.py", script(), Duration.ofSeconds(60), uri, "b",
                    full.toString()).assertOk().stdout();
            assertThat(backup).contains("copied " + expected.bytes(SIZE))
                    .contains("listed qemu:dirty-bitmap:b qemu:dirty-bitmap:coarse");
            assertThat(Files.mismatch(full, d.file("d"))).isEqualTo(-1L);

            assertThat(d.terminate(Duration.ofSeconds(30))).isZero();
        }
        try (DaemonProcess d = start()) {
            assertThat(nbdinfoMap(d.uri("d"), "b")).as("after SIGTERM").isEqualTo(expected.runs(SIZE));
            qemuIo(d, expected, coarse, "write -P 0x44 60000000 70000", 60000000, 70000);
            d.kill();
        }
        try (DaemonProcess d = start()) {
            assertThat(nbdinfoMap(d.uri("d"), "b")).as("after SIGKILL").isEqualTo(expected.runs(SIZE));
            assertThat(nbdinfoMap(d.uri("d"), "coarse")).isEqualTo(coarse.runs(SIZE));
            assertThat(d.log()).contains("the daemon stopped without closing it; its bits are intact");
        }
    }

    private static String script() throws IOException {
        try (var in = DirtyBitmapIT.class.getResourceAsStream("incremental-backup.py")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void qemuIo(DaemonProcess d, Granules expected, Granules coarse, String command, long offset,
                               long length) {
        Tool.run("qemu-io", "-f", "raw", "-c", command, d.uri("d")).assertOk();
        expected.add(offset, length);
        coarse.add(offset, length);
    }

    /** The dirty runs nbdinfo reports, as [offset, end) pairs. */
    private static List<List<Long>> nbdinfoMap(String uri, String bitmap) {
        String out = Tool.run("nbdinfo", "--map=qemu:dirty-bitmap:" + bitmap, uri).assertOk().stdout();
        List<List<Long>> runs = new ArrayList<>();
        for (String line : out.strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 3 && f[2].equals("1")) {
                long start = Long.parseLong(f[0]);
                merge(runs, start, start + Long.parseLong(f[1]));
            }
        }
        return runs;
    }

    /** The dirty runs qemu-img map reports through x-dirty-bitmap: qemu shows a dirty extent as "data": false. */
    private static List<List<Long>> qemuImgMap(DaemonProcess d, String bitmap) throws IOException {
        String out = Tool.run("qemu-img", "map", "--output=json", "--image-opts",
                "driver=nbd,server.type=unix,server.path=" + d.socket() + ",export=d,x-dirty-bitmap=qemu:dirty-bitmap:"
                        + bitmap).assertOk().stdout();
        List<List<Long>> runs = new ArrayList<>();
        for (JsonNode e : JSON.readTree(out)) {
            if (!e.path("data").asBoolean()) {
                long start = e.path("start").asLong();
                merge(runs, start, start + e.path("length").asLong());
            }
        }
        return runs;
    }

    private static void merge(List<List<Long>> runs, long start, long end) {
        if (!runs.isEmpty() && runs.get(runs.size() - 1).get(1) == start) {
            runs.set(runs.size() - 1, List.of(runs.get(runs.size() - 1).get(0), end));
        } else {
            runs.add(List.of(start, end));
        }
    }

    /** The granules written so far, and the dirty runs they make: what a bitmap must report. */
    private static final class Granules {
        private final long granularity;
        private final TreeSet<Long> set = new TreeSet<>();

        Granules(long granularity) {
            this.granularity = granularity;
        }

        void add(long offset, long length) {
            for (long g = offset / granularity; g <= (offset + length - 1) / granularity; g++) {
                set.add(g);
            }
        }

        List<List<Long>> runs(long size) {
            List<List<Long>> runs = new ArrayList<>();
            for (long g : set) {
                merge(runs, g * granularity, Math.min(size, (g + 1) * granularity));
            }
            return runs;
        }

        long bytes(long size) {
            return runs(size).stream().mapToLong(r -> r.get(1) - r.get(0)).sum();
        }
    }
}
