package org.bufcached.daemon.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.interop.DaemonProcess.MiB;
import static org.bufcached.daemon.interop.FuseLoopStack.step;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * device sits on that file, and ext4 on the loop device ({@link FuseLoopStack}).
 */
@ExtendWith(DaemonProcess.LogOnFailure.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class FilesystemIT {
    private static final long SIZE = 128 * MiB;

    @TempDir
    Path tmp;

    @BeforeEach
    void tools() {
        FuseLoopStack.requireTools();
        Tool.require("fsck.ext4", "e2fsprogs");
        Tool.require("debugfs", "e2fsprogs");
    }

    @Test
    void ext4OnALoopDeviceOnNbdfuse() throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("a.bin", TestData.random(1, 3 * (int) MiB));
        files.put("b.bin", TestData.random(2, (int) MiB + 4095));
        files.put("dir/c.bin", TestData.random(3, 2 * (int) MiB + 17));
        Path backing;
        try (DaemonProcess d = DaemonProcess.builder(tmp.resolve("daemon")).export("fs", SIZE).start()) {
            backing = d.file("fs");
            FuseLoopStack stack = FuseLoopStack.start(tmp, d.uri("fs"), false);
            boolean passed = false;
            try {
                assertThat(Files.size(stack.device())).as("size of the nbdfuse file").isEqualTo(SIZE);
                Path mountDir = stack.mountDir();
                stack.mkfs();
                stack.mount();
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    writeSynced(mountDir.resolve(f.getKey()), f.getValue());
                }
                step("sync", "sync", "-f", mountDir.toString());
                stack.umount();

                // mount again: the reads come through the loop device and nbdfuse from the daemon
                stack.mount("-o", "ro");
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    assertThat(Files.readAllBytes(mountDir.resolve(f.getKey()))).as("content of %s", f.getKey())
                            .isEqualTo(f.getValue());
                }
                stack.umount();

                Tool.Result fsck = step("fsck.ext4 -n -f on the loop device", "fsck.ext4", "-n", "-f", stack.loop());
                assertThat(fsck.stdout()).contains("files");
                passed = true;
            } finally {
                List<String> problems = stack.cleanUp();
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

    static void writeSynced(Path file, byte[] data) throws IOException {
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
}
