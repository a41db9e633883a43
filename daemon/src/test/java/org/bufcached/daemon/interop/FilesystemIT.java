package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real filesystem on the export: nbdfuse shows the export as a file, a loop
 * device sits on that file, and ext4 on the loop device. Needs root, /dev/fuse and
 * loop devices; every step that fails says which one it was, and everything is
 * undone in reverse order whatever happens.
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class FilesystemIT {
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    private static final long SIZE = 128 * MiB;

    @TempDir
    Path tmp;

    private Process nbdfuse;
    private Path fuseDir;
    private String loop;
    private Path mountDir;
    private boolean mounted;

    @BeforeEach
    void tools() {
        Tool.require("nbdfuse", "libnbd-bin");
        Tool.require("fusermount3", "fuse3");
        Tool.require("losetup", "util-linux");
        Tool.require("mount", "mount");
        Tool.require("mkfs.ext4", "e2fsprogs");
        Tool.require("fsck.ext4", "e2fsprogs");
        Tool.require("debugfs", "e2fsprogs");
        assumeTrue("0".equals(Tool.run("id", "-u").stdout().strip()),
                "loop devices and mount need root; skipping (run as root, as CI does)");
    }

    @Test
    void ext4OnALoopDeviceOnNbdfuse() throws Exception {
        fuseDir = Files.createDirectories(tmp.resolve("fuse"));
        mountDir = Files.createDirectories(tmp.resolve("mnt"));
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("a.bin", TestData.random(1, 3 * (int) MiB));
        files.put("b.bin", TestData.random(2, (int) MiB + 4095));
        files.put("dir/c.bin", TestData.random(3, 2 * (int) MiB + 17));
        Path backing;
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("fs", SIZE).start()) {
            backing = d.file("fs");
            boolean passed = false;
            try {
                Path device = startNbdfuse(d);
                assertThat(Files.size(device)).as("size of the nbdfuse file").isEqualTo(SIZE);
                loop = attachLoop(device);
                step("mkfs.ext4", "mkfs.ext4", "-q", "-F", loop);
                step("mount", "mount", "-t", "ext4", loop, mountDir.toString());
                mounted = true;

                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    writeSynced(mountDir.resolve(f.getKey()), f.getValue());
                }
                step("sync", "sync", "-f", mountDir.toString());
                step("umount", "umount", mountDir.toString());
                mounted = false;

                // mount again: the reads come through the loop device and nbdfuse from the daemon
                step("mount again", "mount", "-t", "ext4", "-o", "ro", loop, mountDir.toString());
                mounted = true;
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    assertThat(Files.readAllBytes(mountDir.resolve(f.getKey()))).as("content of %s", f.getKey())
                            .isEqualTo(f.getValue());
                }
                step("umount again", "umount", mountDir.toString());
                mounted = false;

                Tool.Result fsck = step("fsck.ext4 -n -f on the loop device", "fsck.ext4", "-n", "-f", loop);
                assertThat(fsck.stdout()).contains("files");
                passed = true;
            } finally {
                List<String> problems = cleanUp();
                if (passed) {
                    assertThat(problems).as("clean-up problems").isEmpty();
                }
            }
        }
        // After the daemon's graceful stop its backing file is the same clean filesystem.
        step("fsck.ext4 -n -f on the backing file", "fsck.ext4", "-n", "-f", backing.toString());
        Path dumped = tmp.resolve("dumped.bin");
        step("debugfs dump", "debugfs", "-R", "dump /dir/c.bin " + dumped, backing.toString());
        assertThat(Files.readAllBytes(dumped)).as("dir/c.bin read from the backing file")
                .isEqualTo(files.get("dir/c.bin"));
    }

    /** nbdfuse MOUNTDIR URI, in the foreground as a child; ready when its pid file is written. */
    private Path startNbdfuse(DaemonProcess d) throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse does not exist: FUSE is not usable here");
        Path pidFile = tmp.resolve("nbdfuse.pid");
        Path log = tmp.resolve("nbdfuse.log");
        nbdfuse = Tool.background(log, "nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), d.uri("fs"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Path device = fuseDir.resolve("nbd");
        while (!(Files.exists(pidFile) && Files.size(pidFile) > 0 && Files.exists(device))) {
            if (!nbdfuse.isAlive()) {
                throw new AssertionError("step nbdfuse failed: exited with code " + nbdfuse.exitValue()
                        + " before it was ready (is /dev/fuse usable?)\n" + Tool.text(log));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("step nbdfuse failed: " + device + " did not appear within 30 s\n"
                        + Tool.text(log));
            }
            Thread.sleep(50);
        }
        return device;
    }

    /** losetup -f --show FILE; when no free loop device exists, makes /dev/loopN nodes (block 7,N) and retries. */
    private String attachLoop(Path file) {
        Tool.Result r = Tool.run(STEP_TIMEOUT, "losetup", "-f", "--show", file.toString());
        if (!r.ok()) {
            List<String> made = new ArrayList<>();
            if (!Files.exists(Path.of("/dev/loop-control"))) {
                Tool.run("mknod", "/dev/loop-control", "c", "10", "237");
            }
            for (int n = 0; n < 16; n++) {
                if (!Files.exists(Path.of("/dev/loop" + n))) {
                    if (Tool.run("mknod", "-m", "0660", "/dev/loop" + n, "b", "7", String.valueOf(n)).ok()) {
                        made.add("/dev/loop" + n);
                    }
                }
            }
            r = Tool.run(STEP_TIMEOUT, "losetup", "-f", "--show", file.toString());
            if (!r.ok()) {
                throw new AssertionError("step losetup failed: loop devices are not usable here (created nodes: "
                        + made + "): " + r.describe());
            }
        }
        String dev = r.stdout().strip();
        assertThat(dev).as("losetup output").startsWith("/dev/loop");
        return dev;
    }

    private static void writeSynced(Path file, byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    /** Runs one step of the set-up; its failure names the step. */
    private static Tool.Result step(String name, String... command) {
        Tool.Result r = Tool.run(STEP_TIMEOUT, command);
        if (!r.ok()) {
            throw new AssertionError("step " + name + " failed (exit " + r.exitCode() + "): " + r.describe());
        }
        return r;
    }

    /** Undoes whatever was set up, in reverse order, without letting one failure skip the rest. */
    private List<String> cleanUp() {
        List<String> problems = new ArrayList<>();
        if (mounted) {
            Tool.Result r = Tool.run(STEP_TIMEOUT, "umount", mountDir.toString());
            if (!r.ok()) {
                problems.add("umount: " + r.stderr().strip());
                Tool.run(STEP_TIMEOUT, "umount", "-l", mountDir.toString());
            }
            mounted = false;
        }
        if (loop != null) {
            Tool.Result r = Tool.run(STEP_TIMEOUT, "losetup", "-d", loop);
            if (!r.ok()) {
                problems.add("losetup -d " + loop + ": " + r.stderr().strip());
            }
            loop = null;
        }
        if (nbdfuse != null) {
            Tool.Result r = Tool.run(STEP_TIMEOUT, "fusermount3", "-u", fuseDir.toString());
            if (!r.ok()) {
                problems.add("fusermount3 -u: " + r.stderr().strip());
                Tool.run(STEP_TIMEOUT, "fusermount3", "-u", "-z", fuseDir.toString());
            }
            try {
                if (!nbdfuse.waitFor(20, TimeUnit.SECONDS)) {
                    problems.add("nbdfuse did not exit after fusermount3 -u; killed");
                    Tool.killTree(nbdfuse.toHandle());
                    Tool.run(STEP_TIMEOUT, "umount", "-l", fuseDir.toString());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Tool.killTree(nbdfuse.toHandle());
            }
            nbdfuse = null;
        }
        if (!problems.isEmpty()) {
            System.err.println("FilesystemIT clean-up problems: " + problems);
        }
        return problems;
    }
}
