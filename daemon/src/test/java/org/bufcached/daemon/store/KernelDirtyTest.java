package org.bufcached.daemon.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KernelDirtyTest {

    private static String vmstat(long dirty, long writeback, long background) {
        return "nr_free_pages 5000000\nnr_dirty " + dirty + "\nnr_writeback " + writeback
                + "\nnr_writeback_temp 0\nnr_dirty_threshold " + 2 * background
                + "\nnr_dirty_background_threshold " + background + "\n";
    }

    private static boolean parse(String vmstat) {
        byte[] text = vmstat.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return KernelDirty.parse(text, text.length);
    }

    @Test
    void belowWhileDirtyAndWritebackStayUnderTheBackgroundThreshold() {
        assertThat(parse(vmstat(100, 50, 1000))).isTrue();
        assertThat(parse(vmstat(900, 99, 1000))).isTrue();
    }

    @Test
    void pagesUnderWriteBackCountAsTheKernelCountsThem() {
        assertThat(parse(vmstat(900, 100, 1000))).isFalse();
        assertThat(parse(vmstat(0, 1000, 1000))).isFalse();
    }

    @Test
    void whatCannotBeReadCountsAsAbove() {
        assertThat(parse("")).isFalse();
        assertThat(parse("nr_dirty 1\nnr_writeback 1\n")).isFalse();
        assertThat(parse("nr_dirty x\nnr_writeback 1\nnr_dirty_background_threshold 10\n")).isFalse();
        assertThat(parse("nr_dirty 1\nnr_writeback 1\nnr_dirty_background_threshold\n")).isFalse();
        assertThat(parse("nr_dirty_x 1\nnr_dirty 1\nnr_writeback 1\nnr_dirty_background_threshold 10"))
                .as("a longer key, and no newline at the end").isTrue();
    }

    @Test
    void thisKernelShowsWhatItIsReadFrom() throws Exception {
        String text = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/vmstat"));
        assertThat(text).containsPattern("(?m)^nr_dirty \\d+$").containsPattern("(?m)^nr_writeback \\d+$")
                .containsPattern("(?m)^nr_dirty_background_threshold \\d+$");
    }
}
