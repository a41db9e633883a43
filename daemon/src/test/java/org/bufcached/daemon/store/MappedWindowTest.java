package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedWindowTest {

    private static final int PAGE = Posix.pageSize();
    private static final int WINDOW = 16 * PAGE;

    @TempDir
    Path dir;

    private BackingFile file;
    private MappedWindow window;

    @BeforeEach
    void mapTheSecondWindow() throws Exception {
        file = BackingFile.openOrCreate(dir.resolve("disk"), 4L * WINDOW);
        window = MappedWindow.map(file, WINDOW, WINDOW);
    }

    @AfterEach
    void unmapAndClose() throws Exception {
        window.unmap();
        file.close();
    }

    @Test
    void describesItsPlaceInTheFile() {
        assertThat(window.fileOffset()).isEqualTo(WINDOW);
        assertThat(window.length()).isEqualTo(WINDOW);
        assertThat(window.address() % PAGE).isZero();
        assertThat(window.readOnly()).isFalse();
        assertThat(window.isMapped()).isTrue();
    }

    @Test
    void whatIsWrittenThroughAByteBufIsWhatPreadSees() throws Exception {
        ByteBuf pattern = NativeBuffers.pattern(300, 5);
        ByteBuf read = NativeBuffers.zeroed(300);
        try {
            ByteBuf mapped = window.byteBuf(PAGE - 100, 300);
            mapped.setBytes(0, pattern, 0, 300);
            mapped.release();

            file.pread(read.memoryAddress(), 300, WINDOW + PAGE - 100);

            assertThat(NativeBuffers.bytes(read)).isEqualTo(NativeBuffers.bytes(pattern));
        } finally {
            pattern.release();
            read.release();
        }
    }

    @Test
    void whatPwriteWritesIsWhatTheByteBufShows() throws Exception {
        ByteBuf pattern = NativeBuffers.pattern(300, 9);
        try {
            file.pwrite(pattern.memoryAddress(), 300, WINDOW + 2 * PAGE);

            ByteBuf mapped = window.byteBuf(2 * PAGE, 300);
            assertThat(mapped.readableBytes()).isEqualTo(300);
            assertThat(mapped.hasMemoryAddress()).isTrue();
            assertThat(mapped.memoryAddress()).isEqualTo(window.address() + 2 * PAGE);
            assertThat(NativeBuffers.bytes(mapped)).isEqualTo(NativeBuffers.bytes(pattern));
            mapped.release();
        } finally {
            pattern.release();
        }
    }

    @Test
    void aReadOnlyFileGivesReadOnlyBuffers() throws Exception {
        try (BackingFile readOnly = BackingFile.open(file.path(), true)) {
            MappedWindow readOnlyWindow = MappedWindow.map(readOnly, 0, WINDOW);
            try {
                ByteBuf mapped = readOnlyWindow.byteBuf(0, 16);

                assertThat(mapped.isReadOnly()).isTrue();
                assertThatThrownBy(() -> mapped.setByte(0, 1)).isInstanceOf(ReadOnlyBufferException.class);
                assertThatThrownBy(() -> readOnlyWindow.populateWrite(0, PAGE))
                        .isInstanceOf(IllegalStateException.class);
            } finally {
                readOnlyWindow.unmap();
            }
        }
    }

    @Test
    void adviceAndSyncOnSubRangesDoNotThrow() throws Exception {
        window.byteBuf(3 * PAGE + 10, 1).setByte(0, 42);

        window.willNeed(PAGE + 1, 3 * PAGE);
        window.populateRead(0, WINDOW);
        window.populateWrite(5, PAGE);
        window.cold(PAGE, 2 * PAGE);
        window.syncRange(3 * PAGE + 10, 1);
        window.dontNeed(0, WINDOW);

        assertThat(window.byteBuf(3 * PAGE + 10, 1).getByte(0)).isEqualTo((byte) 42);
    }

    @Test
    void refusesWindowsThatAreNotPageAlignedOrReachPastTheFile() {
        assertThatThrownBy(() -> MappedWindow.map(file, 512, WINDOW)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MappedWindow.map(file, 0, WINDOW + 512)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MappedWindow.map(file, 4L * WINDOW, WINDOW)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesRangesOutsideTheWindow() {
        assertThatThrownBy(() -> window.byteBuf(WINDOW - 10, 11)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> window.willNeed(-1, 10)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void unmapIsIdempotentAndEndsAccess() throws Exception {
        window.unmap();
        window.unmap();

        assertThat(window.isMapped()).isFalse();
        assertThatThrownBy(() -> window.byteBuf(0, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> window.populateRead(0, PAGE)).isInstanceOf(IllegalStateException.class);
    }
}
