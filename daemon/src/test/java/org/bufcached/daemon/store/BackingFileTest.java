package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.netty.buffer.ByteBuf;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackingFileTest {

    private static final int MIB = 1 << 20;
    private static final long HOLE = BackingFile.HOLE;
    private static final long DATA = BackingFile.DATA;

    @TempDir
    Path dir;

    @Test
    void whatIsWrittenIsReadBack() throws Exception {
        ByteBuf written = NativeBuffers.pattern(10_000, 7);
        ByteBuf read = NativeBuffers.zeroed(10_000);
        try (BackingFile file = BackingFile.openOrCreate(dir.resolve("disk"), MIB)) {
            file.pwrite(written.memoryAddress(), 10_000, 12_345);

            assertThat(file.pread(read.memoryAddress(), 10_000, 12_345)).isEqualTo(10_000);
            assertThat(NativeBuffers.bytes(read)).isEqualTo(NativeBuffers.bytes(written));
        } finally {
            written.release();
            read.release();
        }
    }

    @Test
    void readingAcrossTheEndOfTheFileReturnsWhatIsThere() throws Exception {
        ByteBuf read = NativeBuffers.zeroed(8192);
        try (BackingFile file = BackingFile.openOrCreate(dir.resolve("disk"), MIB)) {
            assertThat(file.pread(read.memoryAddress(), 8192, MIB - 4096)).isEqualTo(4096);
        } finally {
            read.release();
        }
    }

    @Test
    void aNewFileIsSparse() throws Exception {
        try (BackingFile file = BackingFile.openOrCreate(dir.resolve("disk"), 1L << 30)) {
            assertThat(file.size()).isEqualTo(1L << 30);
            assertThat(file.nextData(0)).isEqualTo(1L << 30);
            assertThat(file.extents(0, 1L << 30, 16)).containsExactly(1L << 30, HOLE);
        }
    }

    @Test
    void openOrCreateExtendsButNeverShrinks() throws Exception {
        Path path = dir.resolve("disk");
        BackingFile.openOrCreate(path, 2 * MIB).close();

        try (BackingFile file = BackingFile.openOrCreate(path, MIB)) {
            assertThat(file.size()).isEqualTo(2 * MIB);
            file.extendTo(3 * MIB);
            assertThat(file.size()).isEqualTo(3 * MIB);
            file.truncate(MIB);
            assertThat(file.size()).isEqualTo(MIB);
        }
    }

    @Test
    void aPunchedHoleShowsInSeeksAndExtentsAndReadsAsZeroes() throws Exception {
        try (BackingFile file = fileOfData(3 * MIB)) {
            file.punchHole(MIB, MIB);

            assertThat(file.size()).isEqualTo(3 * MIB);
            assertThat(file.nextHole(0)).isEqualTo(MIB);
            assertThat(file.nextData(MIB)).isEqualTo(2 * MIB);
            assertThat(file.nextHole(2 * MIB)).isEqualTo(3 * MIB);
            assertThat(file.extents(0, 3 * MIB, 16)).containsExactly(MIB, DATA, MIB, HOLE, MIB, DATA);
            assertThat(readBack(file, MIB, 4096)).containsOnly(0);
            assertThat(readBack(file, 2 * MIB, 4096)).containsOnly(1);
        }
    }

    @Test
    void extentsStartInsideAnExtentAndEndAtTheRangeTheFileOrTheLimit() throws Exception {
        try (BackingFile file = fileOfData(3 * MIB)) {
            file.punchHole(MIB, MIB);

            assertThat(file.extents(MIB + 4096, MIB, 16)).containsExactly(MIB - 4096, HOLE, 4096, DATA);
            assertThat(file.extents(2 * MIB, 10L * MIB, 16)).containsExactly(MIB, DATA);
            assertThat(file.extents(0, 3 * MIB, 2)).containsExactly(MIB, DATA, MIB, HOLE);
            assertThat(file.extents(3 * MIB, MIB, 16)).isEmpty();
        }
    }

    @Test
    void extentLengthsAddUpToTheRangeInsideTheFile() throws Exception {
        try (BackingFile file = fileOfData(4 * MIB)) {
            for (int i = 0; i < 4 * MIB; i += MIB / 2) {
                file.punchHole(i, MIB / 4);
            }

            long[] extents = file.extents(4096, 8L * MIB, 1000);

            assertThat(extents).hasSize(2 * 16);
            long total = 0;
            for (int i = 0; i < extents.length; i += 2) {
                assertThat(extents[i]).isPositive();
                assertThat(extents[i + 1]).isEqualTo(i % 4 == 0 ? HOLE : DATA);
                total += extents[i];
            }
            assertThat(total).isEqualTo(4 * MIB - 4096);
        }
    }

    @Test
    void aZeroedRangeReadsBackAsZeroesAndStaysAllocated() throws Exception {
        try (BackingFile file = fileOfData(MIB)) {
            try {
                file.zeroRange(4096, 8192);
            } catch (PosixException e) {
                assumeFalse(e.errno() == Errno.EOPNOTSUPP, "the filesystem of the temporary directory cannot zero ranges");
                throw e;
            }

            assertThat(readBack(file, 0, 4096)).containsOnly(1);
            assertThat(readBack(file, 4096, 8192)).containsOnly(0);
            assertThat(readBack(file, 12_288, 4096)).containsOnly(1);
            assertThat(file.size()).isEqualTo(MIB);
        }
    }

    @Test
    void allocatingPastTheEndGrowsTheFile() throws Exception {
        try (BackingFile file = BackingFile.openOrCreate(dir.resolve("disk"), MIB)) {
            file.allocate(MIB, 4096);

            assertThat(file.size()).isEqualTo(MIB + 4096);
        }
    }

    @Test
    void fdatasyncAndSyncRangeSucceed() throws Exception {
        try (BackingFile file = fileOfData(MIB)) {
            file.syncRange(0, MIB);
            file.fdatasync();
        }
    }

    @Test
    void callsOnAClosedFileFailWithEbadf() throws Exception {
        BackingFile file = BackingFile.openOrCreate(dir.resolve("disk"), MIB);
        file.close();
        file.close();
        ByteBuf buffer = NativeBuffers.zeroed(4096);
        try {
            assertThat(file.fd()).isEqualTo(-1);
            assertThatThrownBy(() -> file.pread(buffer.memoryAddress(), 4096, 0))
                    .isInstanceOfSatisfying(PosixException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADF));
        } finally {
            buffer.release();
        }
    }

    @Test
    void changingAReadOnlyFileFailsWithEbadf() throws Exception {
        Path path = dir.resolve("disk");
        BackingFile.openOrCreate(path, MIB).close();
        ByteBuf buffer = NativeBuffers.zeroed(4096);
        try (BackingFile file = BackingFile.open(path, true)) {
            assertThat(file.readOnly()).isTrue();
            assertThatThrownBy(() -> file.punchHole(0, 4096))
                    .isInstanceOfSatisfying(PosixException.class, e -> {
                        assertThat(e.call()).isEqualTo("fallocate");
                        assertThat(e.errno()).isEqualTo(Errno.EBADF);
                    });
            assertThatThrownBy(() -> file.pwrite(buffer.memoryAddress(), 4096, 0))
                    .isInstanceOfSatisfying(PosixException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADF));
        } finally {
            buffer.release();
        }
    }

    @Test
    void openingAMissingFileFailsWithEnoent() {
        assertThatThrownBy(() -> BackingFile.open(dir.resolve("missing"), false))
                .isInstanceOfSatisfying(PosixException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    /** A new file of {@code size} bytes, each 1, written and on disk so that it has no holes. */
    private BackingFile fileOfData(int size) throws Exception {
        Path path = dir.resolve("data");
        byte[] ones = new byte[size];
        Arrays.fill(ones, (byte) 1);
        Files.write(path, ones);
        BackingFile file = BackingFile.open(path, false);
        file.fdatasync();
        return file;
    }

    private static byte[] readBack(BackingFile file, long offset, int length) throws PosixException {
        ByteBuf buffer = NativeBuffers.zeroed(length);
        try {
            assertThat(file.pread(buffer.memoryAddress(), length, offset)).isEqualTo(length);
            return NativeBuffers.bytes(buffer);
        } finally {
            buffer.release();
        }
    }
}
