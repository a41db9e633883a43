package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KernelDirtyTest {

    private static String vmstat(long dirty, long writeback, long background) {
        return "nr_free_pages 5000000\nnr_dirty " + dirty + "\nnr_writeback " + writeback
                + "\nnr_writeback_temp 0\nnr_dirty_threshold " + 2 * background
                + "\nnr_dirty_background_threshold " + background + "\n";
    }

    @Test
    void belowWhileDirtyAndWritebackStayUnderTheBackgroundThreshold() {
        assertThat(KernelDirty.parse(vmstat(100, 50, 1000))).isTrue();
        assertThat(KernelDirty.parse(vmstat(900, 99, 1000))).isTrue();
    }

    @Test
    void pagesUnderWriteBackCountAsTheKernelCountsThem() {
        assertThat(KernelDirty.parse(vmstat(900, 100, 1000))).isFalse();
        assertThat(KernelDirty.parse(vmstat(0, 1000, 1000))).isFalse();
    }

    @Test
    void whatCannotBeReadCountsAsAbove() {
        assertThat(KernelDirty.parse("")).isFalse();
        assertThat(KernelDirty.parse("nr_dirty 1\nnr_writeback 1\n")).isFalse();
        assertThat(KernelDirty.parse("nr_dirty x\nnr_writeback 1\nnr_dirty_background_threshold 10\n")).isFalse();
    }

    @Test
    void thisKernelShowsWhatItIsReadFrom() throws Exception {
        String text = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/vmstat"));
        assertThat(text).containsPattern("(?m)^nr_dirty \\d+$").containsPattern("(?m)^nr_writeback \\d+$")
                .containsPattern("(?m)^nr_dirty_background_threshold \\d+$");
    }
}
