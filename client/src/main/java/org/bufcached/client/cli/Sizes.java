package org.bufcached.client.cli;

import java.util.Locale;

/** Sizes with binary suffixes ({@code 4k}, {@code 1M}, {@code 2G}) in arguments and in output. */
final class Sizes {
    private Sizes() {
    }

    static long parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT).replaceAll("i?b$", "");
        int shift = 0;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k': shift = 10; break;
                case 'm': shift = 20; break;
                case 'g': shift = 30; break;
                case 't': shift = 40; break;
                default: break;
            }
        }
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits);
            if (v < 0 || (shift > 0 && v > (Long.MAX_VALUE >> shift))) {
                throw new IllegalArgumentException("size out of range: " + s);
            }
            return v << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: " + s + " (use e.g. 4096, 4k, 1M, 2G)");
        }
    }

    /** A human-readable size, e.g. {@code 256 MiB} or {@code 1.5 GiB}. */
    static String format(double bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (Math.abs(bytes) >= 1024 && u < units.length - 1) {
            bytes /= 1024;
            u++;
        }
        return (bytes == Math.rint(bytes) ? String.format(Locale.ROOT, "%.0f", bytes)
                : String.format(Locale.ROOT, "%.1f", bytes)) + " " + units[u];
    }
}
