package org.bufcached.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as people write them in configuration files: {@code 4096},
 * {@code 512K}, {@code 64MiB}, {@code 1.5G}. Every unit is binary (1024-based),
 * whether written {@code G} or {@code GiB}: a cache is sized in pages, and a
 * decimal "GB" silently off by 7% is worse than a rejected one, so {@code GB}
 * and friends are refused rather than guessed.
 */
public final class Sizes {
    private static final long K = 1024L;
    private static final Map<String, Long> UNITS = Map.of(
            "", 1L, "b", 1L,
            "k", K, "kib", K,
            "m", K * K, "mib", K * K,
            "g", K * K * K, "gib", K * K * K,
            "t", K * K * K * K, "tib", K * K * K * K);
    private static final String[] FORMAT_UNITS = {"TiB", "GiB", "MiB", "KiB"};
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([A-Za-z]*)");
    private static final Pattern PERCENT = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*%");
    private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);

    private Sizes() {
    }

    /**
     * Parses an absolute size in bytes.
     *
     * @throws IllegalArgumentException with a message fit for an operator, for
     *         garbage, negative values, unknown units, fractions of a byte, overflow
     *         and percentages (which need a base; see {@link #parseRelative})
     */
    public static long parse(String text) {
        String trimmed = text.strip();
        if (PERCENT.matcher(trimmed).matches()) {
            throw new IllegalArgumentException("a percentage is not allowed here, only for cache watermarks; got \""
                    + text + "\"");
        }
        if (trimmed.startsWith("-")) {
            throw new IllegalArgumentException("a size must not be negative, got \"" + text + "\"");
        }
        Matcher matcher = SIZE.matcher(trimmed);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("expected a size such as 4096, 512K or 64MiB, got \"" + text + "\"");
        }
        Long unit = UNITS.get(matcher.group(2).toLowerCase(Locale.ROOT));
        if (unit == null) {
            throw new IllegalArgumentException("unknown size unit \"" + matcher.group(2)
                    + "\" (use K, M, G, T or KiB, MiB, GiB, TiB; all are powers of 1024)");
        }
        BigDecimal bytes = new BigDecimal(matcher.group(1)).multiply(BigDecimal.valueOf(unit));
        if (bytes.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("\"" + text + "\" is not a whole number of bytes");
        }
        return toLong(bytes, text);
    }

    /**
     * Parses an absolute size or a percentage of {@code base}, for tunables that
     * naturally scale with the cache ({@code hidirtybufspace: 25%}). A percentage
     * is rounded down to whole bytes and may not exceed 100%.
     */
    public static long parseRelative(String text, long base) {
        Matcher matcher = PERCENT.matcher(text.strip());
        if (!matcher.matches()) {
            return parse(text);
        }
        BigDecimal percent = new BigDecimal(matcher.group(1));
        if (percent.compareTo(HUNDRED) > 0) {
            throw new IllegalArgumentException("a percentage must be between 0% and 100%, got \"" + text + "\"");
        }
        return percent.multiply(BigDecimal.valueOf(base)).divide(HUNDRED, 0, RoundingMode.FLOOR).longValueExact();
    }

    /**
     * Formats bytes in the largest binary unit that represents them exactly
     * ({@code 64MiB}, {@code 1536KiB}) or as plain bytes, so that the text parses
     * back to the same value.
     */
    public static String format(long bytes) {
        for (int i = 0; i < FORMAT_UNITS.length; i++) {
            long unit = 1L << (10 * (FORMAT_UNITS.length - i));
            if (bytes != 0 && bytes % unit == 0) {
                return bytes / unit + FORMAT_UNITS[i];
            }
        }
        return Long.toString(bytes);
    }

    private static long toLong(BigDecimal bytes, String text) {
        BigInteger whole = bytes.toBigIntegerExact();
        if (whole.bitLength() >= Long.SIZE) {
            throw new IllegalArgumentException("size \"" + text + "\" is too large");
        }
        return whole.longValue();
    }
}
