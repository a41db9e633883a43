package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryAdviceTest {

    private static final int PAGE = Posix.pageSize();
    private static final int LENGTH = 8 * PAGE;

    @TempDir
    Path dir;

    private BackingFile file;
    private MappedWindow window;

    @BeforeEach
    void mapAFileWithData() throws Exception {
        file = BackingFile.openOrCreate(dir.resolve("disk"), LENGTH);
        ByteBuf pattern = NativeBuffers.pattern(LENGTH, 3);
        try {
            file.pwrite(pattern.memoryAddress(), LENGTH, 0);
        } finally {
            pattern.release();
        }
        window = MappedWindow.map(file, 0, LENGTH);
    }

    @AfterEach
    void unmapAndClose() throws Exception {
        window.unmap();
        file.close();
    }

    @Test
    void theProbeFindsWhatThisKernelHas() {
        MemoryAdvice kernel = MemoryAdvice.ofKernel();

        // Only one way: distribution kernels back-port hints to older versions.
        if (kernelAtLeast(5, 4)) {
            assertThat(kernel.coldSupported()).isTrue();
        }
        if (kernelAtLeast(5, 14)) {
            assertThat(kernel.populateSupported()).isTrue();
        }
    }

    @Test
    void theKernelsHintsDoNotThrow() throws Exception {
        MemoryAdvice kernel = MemoryAdvice.ofKernel();

        kernel.populateRead(window.address(), LENGTH);
        kernel.populateWrite(window.address(), LENGTH);
        kernel.cold(window.address(), LENGTH);

        assertThat(window.byteBuf(LENGTH - 1, 1).getByte(0)).isEqualTo((byte) (3 + LENGTH - 1));
    }

    @Test
    void theFallbacksTouchPagesAndSkipCold() throws Exception {
        MemoryAdvice fallback = new MemoryAdvice(false, false);
        // Unaligned: madvise would fail with EINVAL, so not throwing shows that it was not called.
        long unaligned = window.address() + 1;

        fallback.populateRead(unaligned, LENGTH - 1);
        fallback.populateWrite(unaligned, LENGTH - 1);
        fallback.cold(unaligned, LENGTH - 1);

        assertThat(window.byteBuf(0, 1).getByte(0)).isEqualTo((byte) 3);
    }

    @Test
    void theKernelsHintsCarryTheirErrno() {
        MemoryAdvice hinting = new MemoryAdvice(true, true);
        long unaligned = window.address() + 1;

        assertThatThrownBy(() -> hinting.cold(unaligned, PAGE))
                .isInstanceOfSatisfying(PosixException.class, e -> {
                    assertThat(e.call()).isEqualTo("madvise");
                    assertThat(e.errno()).isEqualTo(Errno.EINVAL);
                });
    }

    private static boolean kernelAtLeast(int major, int minor) {
        String[] version = System.getProperty("os.version").split("[.-]");
        int actualMajor = Integer.parseInt(version[0]);
        int actualMinor = Integer.parseInt(version[1]);
        return actualMajor > major || actualMajor == major && actualMinor >= minor;
    }
}
