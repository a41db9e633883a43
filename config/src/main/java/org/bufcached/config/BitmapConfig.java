package org.bufcached.config;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A dirty bitmap of an export, served as the metadata context
 * {@code qemu:dirty-bitmap:NAME}: every range changed by WRITE, TRIM or
 * WRITE_ZEROES since it was created or last cleared, at {@code granularity}.
 *
 * @param name        the bitmap's name: letters, digits, '.', '_' and '-', not starting with '.'
 * @param granularity bytes one bit stands for: a power of two from 512 B to 1 GiB
 */
public record BitmapConfig(String name, long granularity) {
    /** qemu's default granularity for bitmaps of images with small clusters. */
    public static final long DEFAULT_GRANULARITY = 64 * 1024;
    public static final long MIN_GRANULARITY = 512;
    public static final long MAX_GRANULARITY = 1L << 30;
    /** Names end up in file names and NBD strings: kept to a portable, unquoted set. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");

    public BitmapConfig {
        nameProblem(name).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        granularityProblem(granularity).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
    }

    /** A bitmap of the default granularity. */
    public static BitmapConfig named(String name) {
        return new BitmapConfig(name, DEFAULT_GRANULARITY);
    }

    /** Why {@code name} cannot name a bitmap, if it cannot. */
    public static Optional<String> nameProblem(String name) {
        return NAME.matcher(name).matches() ? Optional.empty()
                : Optional.of("bitmap name \"" + name + "\" must be 1 to 64 letters, digits, '.', '_' or '-', "
                        + "not starting with '.'");
    }

    /** Why {@code granularity} is not a valid granularity, if it is not. */
    public static Optional<String> granularityProblem(long granularity) {
        return ScalarType.isPowerOfTwo(granularity) && granularity >= MIN_GRANULARITY
                && granularity <= MAX_GRANULARITY ? Optional.empty()
                : Optional.of("granularity must be a power of two from " + Sizes.format(MIN_GRANULARITY) + " to "
                        + Sizes.format(MAX_GRANULARITY) + ", got " + granularity);
    }
}
