package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An NBD export as a block device with a file system on it: nbdfuse shows the
 * export as a file, a loop device sits on that file, ext4 on the loop device.
 * Needs root, /dev/fuse and loop devices ({@link #requireTools()} skips otherwise);
 * every step that fails says which one it was, and {@link #close()} undoes
 * everything in reverse order whatever happened.
 */
final class FuseLoopStack implements AutoCloseable {
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

    private final Path fuseDir;
    private final Path mountDir;
    private final Process nbdfuse;
    private final Path device;
    private String loop;
    private boolean mounted;

    private FuseLoopStack(Path fuseDir, Path mountDir, Process nbdfuse, Path device) {
        this.fuseDir = fuseDir;
        this.mountDir = mountDir;
        this.nbdfuse = nbdfuse;
        this.device = device;
    }

    /** Skips the test unless the tools, root, FUSE and loop devices are there. */
    static void requireTools() {
        Tool.require("nbdfuse", "libnbd-bin");
        Tool.require("fusermount3", "fuse3");
        Tool.require("losetup", "util-linux");
        Tool.require("mount", "mount");
        Tool.require("mkfs.ext4", "e2fsprogs");
        assumeTrue("0".equals(Tool.run("id", "-u").stdout().strip()),
                "loop devices and mount need root; skipping (run as root, as CI does)");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse does not exist: FUSE is not usable here");
    }

    /**
     * nbdfuse on {@code uri} in {@code dir}/fuse, then a loop device on its file;
     * {@code directIo}: the loop device bypasses the page cache of the nbdfuse file,
     * so each write of the file system above reaches the NBD server (and its
     * errors come back) at once.
     */
    static FuseLoopStack start(Path dir, String uri, boolean directIo) throws Exception {
        Path fuseDir = Files.createDirectories(dir.resolve("fuse"));
        Path mountDir = Files.createDirectories(dir.resolve("mnt"));
        Path pidFile = dir.resolve("nbdfuse.pid");
        Path log = dir.resolve("nbdfuse.log");
        Process nbdfuse = Tool.background(log, "nbdfuse", "-P", pidFile.toString(), fuseDir.toString(), uri);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Path device = fuseDir.resolve("nbd");
        while (!(Files.exists(pidFile) && Files.size(pidFile) > 0 && Files.exists(device))) {
            if (!nbdfuse.isAlive()) {
                throw new AssertionError("step nbdfuse failed: exited with code " + nbdfuse.exitValue()
                        + " before it was ready (is /dev/fuse usable?)\n" + Tool.text(log));
            }
            if (System.nanoTime() > deadline) {
                Tool.killTree(nbdfuse.toHandle());
                throw new AssertionError("step nbdfuse failed: " + device + " did not appear within 30 s\n"
                        + Tool.text(log));
            }
            Thread.sleep(50);
        }
        FuseLoopStack stack = new FuseLoopStack(fuseDir, mountDir, nbdfuse, device);
        try {
            stack.loop = attachLoop(device, directIo);
        } catch (RuntimeException | Error e) {
            stack.close();
            throw e;
        }
        return stack;
    }

    /** The nbdfuse file: the export's bytes. */
    Path device() {
        return device;
    }

    /** The loop device, /dev/loopN. */
    String loop() {
        return loop;
    }

    Path mountDir() {
        return mountDir;
    }

    void mkfs(String... options) {
        List<String> cmd = new ArrayList<>(List.of("mkfs.ext4", "-q", "-F"));
        cmd.addAll(List.of(options));
        cmd.add(loop);
        step("mkfs.ext4", cmd.toArray(String[]::new));
    }

    void mount(String... options) {
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", "ext4"));
        cmd.addAll(List.of(options));
        cmd.add(loop);
        cmd.add(mountDir.toString());
        step("mount", cmd.toArray(String[]::new));
        mounted = true;
    }

    void umount() {
        step("umount", "umount", mountDir.toString());
        mounted = false;
    }

    /** losetup -f --show FILE; when no free loop device exists, makes /dev/loopN nodes (block 7,N) and retries. */
    private static String attachLoop(Path file, boolean directIo) {
        List<String> cmd = new ArrayList<>(List.of("losetup", "-f", "--show"));
        if (directIo) {
            cmd.add("--direct-io=on");
        }
        cmd.add(file.toString());
        Tool.Result r = Tool.run(STEP_TIMEOUT, cmd.toArray(String[]::new));
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
            r = Tool.run(STEP_TIMEOUT, cmd.toArray(String[]::new));
            if (!r.ok()) {
                throw new AssertionError("step losetup failed: loop devices are not usable here (created nodes: "
                        + made + "): " + r.describe());
            }
        }
        String dev = r.stdout().strip();
        assertThat(dev).as("losetup output").startsWith("/dev/loop");
        return dev;
    }

    /** Runs one step; its failure names the step. */
    static Tool.Result step(String name, String... command) {
        Tool.Result r = Tool.run(STEP_TIMEOUT, command);
        if (!r.ok()) {
            throw new AssertionError("step " + name + " failed (exit " + r.exitCode() + "): " + r.describe());
        }
        return r;
    }

    /** Undoes whatever was set up, in reverse order, without letting one failure skip the rest; returns the problems. */
    List<String> cleanUp() {
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
        if (nbdfuse.isAlive() || Files.exists(device)) {
            Tool.Result r = Tool.run(STEP_TIMEOUT, "fusermount3", "-u", fuseDir.toString());
            if (!r.ok()) {
                problems.add("fusermount3 -u: " + r.stderr().strip());
                Tool.run(STEP_TIMEOUT, "fusermount3", "-u", "-z", fuseDir.toString());
            }
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
        if (!problems.isEmpty()) {
            System.err.println("clean-up problems: " + problems);
        }
        return problems;
    }

    @Override
    public void close() {
        cleanUp();
    }
}
