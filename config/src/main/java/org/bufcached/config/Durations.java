package org.bufcached.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in configuration files: {@code 500ms}, {@code 10s},
 * {@code 2m}, {@code 1h}; a bare number means seconds because timeouts are
 * almost always thought of in seconds.
 */
public final class Durations {
    private static final Map<String, ChronoUnit> UNITS = Map.of(
            "", ChronoUnit.SECONDS, "ms", ChronoUnit.MILLIS, "s", ChronoUnit.SECONDS,
            "m", ChronoUnit.MINUTES, "h", ChronoUnit.HOURS);
    private static final Pattern DURATION = Pattern.compile("([0-9]+)\\s*([a-z]*)");

    private Durations() {
    }

    /**
     * Parses a non-negative duration.
     *
     * @throws IllegalArgumentException with a message fit for an operator
     */
    public static Duration parse(String text) {
        String trimmed = text.strip();
        if (trimmed.startsWith("-")) {
            throw new IllegalArgumentException("a duration must not be negative, got \"" + text + "\"");
        }
        Matcher matcher = DURATION.matcher(trimmed);
        ChronoUnit unit = matcher.matches() ? UNITS.get(matcher.group(2)) : null;
        if (unit == null) {
            throw new IllegalArgumentException("expected a duration such as 500ms, 10s, 2m or 1h, got \"" + text + "\"");
        }
        try {
            return Duration.of(Long.parseLong(matcher.group(1)), unit);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException("duration \"" + text + "\" is too large", e);
        }
    }

    /** Formats a duration in the largest unit that represents it exactly, so it parses back unchanged. */
    public static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 1000 != 0) {
            return millis + "ms";
        }
        long seconds = duration.toSeconds();
        if (seconds != 0 && seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds != 0 && seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
