package org.bufcached.daemon.bitmap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import org.bufcached.config.BitmapConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bitmap file: marking at granularity, extents, clearing, and what reopening finds. */
class DirtyBitmapTest {
    private static final long K64 = 64 * 1024;
    private static final long SIZE = 100 * K64 + 1000; // a partial last granule
    private static final UUID BOOT = UUID.randomUUID();

    @TempDir
    Path dir;

    private DirtyBitmap create() throws IOException {
        return DirtyBitmap.create(dir.resolve(".d.img.bitmap-b"), "b", K64, SIZE, BOOT);
    }

    @Test
    void marksEveryGranuleARangeTouches() throws IOException {
        DirtyBitmap b = create();
        b.mark(K64 + 512, 4096);             // granule 1
        b.mark(10 * K64 - 1, 2);             // granules 9 and 10
        b.mark(64 * K64 - 1, 66 * K64);      // across a word boundary: granules 63..129, clipped to the last, 100
        assertThat(b.extents(0, SIZE, 100)).containsExactly(
                K64, 0, K64, 1, 7 * K64, 0, 2 * K64, 1, 52 * K64, 0, 37 * K64 + 1000, 1);
        assertThat(b.dirtyBytes()).isEqualTo(3 * K64 + 37 * K64 + 1000);
    }

    @Test
    void extentsKeepToTheRequestAndItsLimit() throws IOException {
        DirtyBitmap b = create();
        b.mark(2 * K64, K64);
        assertThat(b.extents(K64 + 100, 3 * K64, 100)).containsExactly(K64 - 100, 0, K64, 1, K64 + 100, 0);
        assertThat(b.extents(K64 + 100, 3 * K64, 1)).containsExactly(K64 - 100, 0);
        assertThat(b.extents(2 * K64 + 5, 10, 1)).containsExactly(10, 1);
        assertThat(b.extents(SIZE - 10, 10, 4)).containsExactly(10, 0);
    }

    @Test
    void onlyBitsThatWereClearCountAsChangesToSync() throws IOException {
        DirtyBitmap b = create();
        long before = b.syncTarget();
        b.mark(0, 3 * K64);
        assertThat(b.syncTarget()).isEqualTo(before + 3);
        assertThat(b.isSynced(b.syncTarget())).isFalse();
        b.syncNow();
        assertThat(b.isSynced(b.syncTarget())).isTrue();
        b.mark(K64, 10); // already set: nothing to sync
        assertThat(b.isSynced(b.syncTarget())).isTrue();
    }

    @Test
    void clearEmptiesItAndLaterWritesMarkItAgain() throws IOException {
        DirtyBitmap b = create();
        b.mark(0, SIZE);
        b.clear();
        assertThat(b.dirtyBytes()).isZero();
        b.mark(5 * K64, 1);
        assertThat(b.extents(0, SIZE, 10)).containsExactly(5 * K64, 0, K64, 1, SIZE - 6 * K64, 0);
    }

    @Test
    void reopeningAfterACleanCloseOrADaemonCrashKeepsTheBits() throws IOException {
        DirtyBitmap b = create();
        b.mark(3 * K64, K64);
        // No close: a crash of the daemon on the same boot; the page cache has the bits.
        DirtyBitmap crashed = DirtyBitmap.open(b.file(), "b", SIZE, K64, BOOT);
        assertThat(crashed.extents(0, SIZE, 10)).containsExactly(3 * K64, 0, K64, 1, SIZE - 4 * K64, 0);
        crashed.close(false);
        DirtyBitmap closed = DirtyBitmap.open(b.file(), "b", SIZE, 0, UUID.randomUUID());
        assertThat(closed.dirtyBytes()).isEqualTo(K64);
    }

    @Test
    void aHostCrashMarksEverythingDirty() throws IOException {
        DirtyBitmap b = create();
        b.mark(3 * K64, K64);
        DirtyBitmap afterReboot = DirtyBitmap.open(b.file(), "b", SIZE, K64, UUID.randomUUID());
        assertThat(afterReboot.dirtyBytes()).isEqualTo(SIZE);
    }

    @Test
    void aGrownExportHasItsNewRangeDirtyAndAShrunkOneLosesTheBitsPastItsEnd() throws IOException {
        DirtyBitmap b = create();
        b.close(false);
        DirtyBitmap grown = DirtyBitmap.open(b.file(), "b", SIZE + 200 * K64, K64, BOOT);
        assertThat(grown.extents(0, SIZE + 200 * K64, 10)).containsExactly(100 * K64, 0, 200 * K64 + 1000, 1);
        grown.close(false);
        DirtyBitmap shrunk = DirtyBitmap.open(b.file(), "b", 50 * K64, K64, BOOT);
        assertThat(shrunk.dirtyBytes()).isZero();
        shrunk.close(false);
        DirtyBitmap again = DirtyBitmap.open(b.file(), "b", SIZE, K64, BOOT);
        assertThat(again.extents(0, SIZE, 10)).containsExactly(50 * K64, 0, 50 * K64 + 1000, 1);
    }

    @Test
    void aWrongGranularityOrADamagedFileIsAClearError() throws IOException {
        DirtyBitmap b = create();
        b.close(false);
        assertThatThrownBy(() -> DirtyBitmap.open(b.file(), "b", SIZE, 2 * K64, BOOT))
                .hasMessageContaining("has granularity 65536, the configuration says 131072")
                .hasMessageContaining("bufcache admin bitmap remove");
        try (FileChannel ch = FileChannel.open(b.file(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'X'}), 0);
        }
        assertThatThrownBy(() -> DirtyBitmap.open(b.file(), "b", SIZE, 0, BOOT))
                .hasMessageContaining("is not a bufcached bitmap file (bad magic)");
        Files.write(dir.resolve("short"), new byte[10]);
        assertThatThrownBy(() -> DirtyBitmap.open(dir.resolve("short"), "s", SIZE, 0, BOOT))
                .hasMessageContaining("too short");
    }

    @Test
    void anExportFindsItsBitmapFilesAndCreatesTheConfiguredOnes() throws IOException {
        Path data = dir.resolve("d.img");
        Files.write(data, new byte[0]);
        ExportBitmaps first = ExportBitmaps.open("d", data, SIZE, List.of(BitmapConfig.named("a")), BOOT);
        first.add("b", 4096);
        first.find("b").mark(0, 1);
        first.close();
        ExportBitmaps second = ExportBitmaps.open("d", data, SIZE, List.of(), BOOT);
        assertThat(second.all()).extracting(DirtyBitmap::name).containsExactly("a", "b");
        assertThat(second.find("b").dirtyBytes()).isEqualTo(4096);
        second.remove("a");
        assertThat(Files.exists(ExportBitmaps.fileOf(data, "a"))).isFalse();
        assertThatThrownBy(() -> second.add("b", 4096)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> second.clear("a")).isInstanceOf(IllegalArgumentException.class);
    }
}
