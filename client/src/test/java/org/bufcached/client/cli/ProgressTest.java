package org.bufcached.client.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The progress line: what it says, and that it never wraps on a narrow terminal. */
class ProgressTest {
    private static final long GIB = 1L << 30;

    @Test
    void showsPhasePercentBytesRateAndTimeLeft() {
        // 1 GiB of 4 GiB in 2 s: 512 MiB/s, 3 GiB left, 6 s.
        String line = Progress.line("copy", GIB, 4 * GIB, 2_000_000_000L, 120);
        assertThat(line).startsWith("copy    25% [").contains("1 GiB / 4 GiB").contains("512 MiB/s")
                .endsWith("ETA 0:06");
    }

    @ParameterizedTest
    @ValueSource(ints = {20, 40, 60, 80, 200})
    void fitsTheTerminalWidth(int columns) {
        String line = Progress.line("verify", 3 * GIB / 2, 4 * GIB, 9_000_000_000L, columns);
        assertThat(line.length()).isLessThan(columns);
        if (columns >= 80) {
            assertThat(line).contains("[").contains("ETA");
        }
    }

    @Test
    void timeLeftIsUnknownBeforeAnyProgressAndZeroAtTheEnd() {
        assertThat(Progress.line("copy", 0, GIB, 1_000_000, 100)).endsWith("ETA -:--");
        assertThat(Progress.line("copy", GIB, GIB, 1_000_000_000L, 100)).contains("100%").endsWith("ETA 0:00");
    }
}
