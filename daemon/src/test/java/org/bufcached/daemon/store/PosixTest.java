package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixTest {

    @TempDir
    Path dir;

    @Test
    void openOfAMissingPathFailsWithEnoent() {
        Path missing = dir.resolve("missing");

        assertThatThrownBy(() -> Posix.open(missing, Posix.O_RDWR | Posix.O_CLOEXEC, 0))
                .isInstanceOfSatisfying(PosixException.class, e -> {
                    assertThat(e.call()).isEqualTo("open");
                    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    assertThat(e.errnoName()).isEqualTo("ENOENT");
                    assertThat(e).hasMessageContaining(missing.toString()).hasMessageContaining("ENOENT");
                });
    }

    @Test
    void preadOnAnInvalidDescriptorFailsWithEbadf() {
        ByteBuf buffer = NativeBuffers.zeroed(16);
        try {
            assertThatThrownBy(() -> Posix.pread(-1, buffer.memoryAddress(), 16, 0))
                    .isInstanceOfSatisfying(PosixException.class, e -> {
                        assertThat(e.call()).isEqualTo("pread");
                        assertThat(e.errno()).isEqualTo(Errno.EBADF);
                    });
        } finally {
            buffer.release();
        }
    }

    @Test
    void openCreatesAFileWithANonAsciiName() throws Exception {
        assumeTrue(Charset.forName(System.getProperty("sun.jnu.encoding")).newEncoder().canEncode("ü"),
                "file names in this locale are ASCII only");
        Path path = dir.resolve("grün.img");

        int fd = Posix.open(path, Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, 0600);
        Posix.close(fd);

        assertThat(path).exists();
    }

    @Test
    void preadStopsAtTheEndOfTheFile() throws Exception {
        Path path = dir.resolve("short");
        Files.write(path, new byte[] {1, 2, 3});
        ByteBuf buffer = NativeBuffers.zeroed(16);
        int fd = Posix.open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
        try {
            assertThat(Posix.pread(fd, buffer.memoryAddress(), 16, 1)).isEqualTo(2);
            assertThat(buffer.getByte(0)).isEqualTo((byte) 2);
            assertThat(buffer.getByte(1)).isEqualTo((byte) 3);
        } finally {
            Posix.close(fd);
            buffer.release();
        }
    }

    @Test
    void seekDataAndSeekHoleReportTheEndOfTheFileAsMinusOne() throws Exception {
        int fd = Posix.open(dir.resolve("sparse"), Posix.O_RDWR | Posix.O_CREAT | Posix.O_CLOEXEC, 0600);
        try {
            Posix.ftruncate(fd, 1 << 20);

            assertThat(Posix.seekData(fd, 0)).isEqualTo(-1);
            assertThat(Posix.seekHole(fd, 0)).isZero();
            assertThat(Posix.seekHole(fd, 1 << 20)).isEqualTo(-1);
            assertThat(Posix.lseek(fd, 0, Posix.SEEK_END)).isEqualTo(1 << 20);
        } finally {
            Posix.close(fd);
        }
    }

    @Test
    void pageSizeAndProcessIdComeFromTheKernel() {
        assertThat(Posix.pageSize()).isPositive().satisfies(size -> assertThat(Integer.bitCount(size)).isOne());
        assertThat((long) Posix.getpid()).isEqualTo(ProcessHandle.current().pid());
    }
}
