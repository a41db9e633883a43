package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PageCacheWritesTest {

    @TempDir
    Path dir;

    @Test
    void devTNumbersSplitAsGlibcSplitsThem() {
        assertThat(PageCacheWrites.major(0xfe00)).isEqualTo(254);
        assertThat(PageCacheWrites.minor(0xfe00)).isZero();
        // 259:65537, with major and minor bits above the old 8-bit fields
        long dev = (259L & 0xfff) << 8 | (65537L & 0xff) | (65537L & ~0xffL) << 12;
        assertThat(PageCacheWrites.major(dev)).isEqualTo(259);
        assertThat(PageCacheWrites.minor(dev)).isEqualTo(65537);
    }

    @Test
    void aDiskSaysWhetherItWantsStablePages() throws Exception {
        Path disk = dir.resolve("8:0");
        Files.createDirectories(disk.resolve("queue"));
        Files.writeString(disk.resolve("queue/stable_writes"), "0\n");
        assertThat(PageCacheWrites.stableWrites(disk)).isFalse();

        Files.writeString(disk.resolve("queue/stable_writes"), "1\n");
        assertThat(PageCacheWrites.stableWrites(disk)).isTrue();
    }

    @Test
    void aPartitionAnswersWithItsDisksQueue() throws Exception {
        Path partition = dir.resolve("sda/sda1");
        Files.createDirectories(partition);
        Files.createDirectories(dir.resolve("sda/queue"));
        Files.writeString(dir.resolve("sda/queue/stable_writes"), "1\n");
        assertThat(PageCacheWrites.stableWrites(partition)).isTrue();
    }

    @Test
    void aDeviceWithoutQueueIsNotKnown() throws Exception {
        Path device = dir.resolve("0:42");
        Files.createDirectories(device);
        assertThat(PageCacheWrites.stableWrites(device)).isNull();
    }

    @Test
    void aRealFileNamesItsFilesystemAndAlignsToAtLeastAPage() throws Exception {
        Path file = Files.writeString(dir.resolve("disk"), "x");
        String type = Files.getFileStore(file).type();

        PageCacheWrites w = PageCacheWrites.of(file);

        assertThat(w.alignment()).isGreaterThanOrEqualTo(Posix.pageSize());
        assertThat(w.reason()).startsWith(type);
        if (!PageCacheWrites.NO_WAIT_FILESYSTEMS.contains(type)) {
            assertThat(w.mayWaitForDisk()).as(type).isTrue();
        }
    }

    @Test
    void aMissingFileMayWait() {
        PageCacheWrites w = PageCacheWrites.of(dir.resolve("missing"));
        assertThat(w.mayWaitForDisk()).isTrue();
        assertThat(w.reason()).startsWith("filesystem unknown");
    }
}
