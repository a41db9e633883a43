package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SizesTest {

    @ParameterizedTest
    @CsvSource({
        "4096, 4096",
        "0, 0",
        "512K, 524288",
        "512KiB, 524288",
        "64M, 67108864",
        "64MiB, 67108864",
        "64 MiB, 67108864",
        "1G, 1073741824",
        "1GiB, 1073741824",
        "1g, 1073741824",
        "2T, 2199023255552",
        "2TiB, 2199023255552",
        "1.5G, 1610612736",
        "100B, 100",
    })
    void parsesBinaryUnits(String text, long bytes) {
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "abc        | expected a size such as 4096, 512K or 64MiB, got \"abc\"",
        "''         | expected a size such as 4096, 512K or 64MiB, got \"\"",
        "-1G        | a size must not be negative, got \"-1G\"",
        "1GB        | unknown size unit \"GB\"",
        "12X        | unknown size unit \"X\"",
        "0.3K       | \"0.3K\" is not a whole number of bytes",
        "8388608T   | size \"8388608T\" is too large",
        "99999999999999999999 | size \"99999999999999999999\" is too large",
        "25%        | a percentage is not allowed here",
        "1G 2G      | expected a size",
    })
    void rejectsWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> Sizes.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void percentagesAreOfTheBaseRoundedDown() {
        assertThat(Sizes.parseRelative("25%", 256L << 20)).isEqualTo(64L << 20);
        assertThat(Sizes.parseRelative("12.5 %", 1000)).isEqualTo(125);
        assertThat(Sizes.parseRelative("33%", 10)).isEqualTo(3);
        assertThat(Sizes.parseRelative("100%", 4096)).isEqualTo(4096);
        assertThat(Sizes.parseRelative("0%", 4096)).isZero();
        assertThat(Sizes.parseRelative("64MiB", 4096)).isEqualTo(64L << 20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"101%", "-5%", "%", "abc%"})
    void rejectsBadPercentages(String text) {
        assertThatThrownBy(() -> Sizes.parseRelative(text, 1000)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void formatsExactlyAndParsesBack() {
        assertThat(Sizes.format(64L << 20)).isEqualTo("64MiB");
        assertThat(Sizes.format(1536L << 10)).isEqualTo("1536KiB");
        assertThat(Sizes.format(1L << 40)).isEqualTo("1TiB");
        assertThat(Sizes.format(4097)).isEqualTo("4097");
        assertThat(Sizes.format(0)).isEqualTo("0");
        for (long bytes : new long[] {0, 1, 4096, 4097, 3L << 30, 267780096, Long.MAX_VALUE}) {
            assertThat(Sizes.parse(Sizes.format(bytes))).isEqualTo(bytes);
        }
    }
}
