package org.bufcached.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * How to turn the text of a YAML scalar into a value: a description for
 * "expected ..., got a list" messages and a parser whose
 * {@link IllegalArgumentException} message becomes the problem's message.
 *
 * <p>Scalars are converted from their text, never from SnakeYAML's resolved
 * types, so YAML 1.1 surprises ({@code 0660} read as octal, {@code yes} as
 * true) cannot change a value behind the operator's back.
 */
record ScalarType<T>(String description, Function<String, T> parser) {
    static final ScalarType<String> STRING = new ScalarType<>("a string", text -> text);
    static final ScalarType<Long> SIZE = new ScalarType<>("a size", Sizes::parse);
    static final ScalarType<Long> POSITIVE_SIZE = SIZE.where(size -> size > 0, "must be greater than 0");
    static final ScalarType<Duration> DURATION = new ScalarType<>("a duration", Durations::parse);
    static final ScalarType<Integer> COUNT = new ScalarType<>("a count", ScalarType::parseCount);
    static final ScalarType<Integer> POSITIVE_COUNT = COUNT.where(count -> count > 0, "must be at least 1");
    static final ScalarType<Boolean> BOOLEAN = new ScalarType<>("true or false", ScalarType::parseBoolean);
    static final ScalarType<HostPort> HOST_PORT = new ScalarType<>(
            "a \"host:port\" string (quote IPv6 forms such as \"[::1]:10809\")", HostPort::parse);
    static final ScalarType<Cidr> CIDR = new ScalarType<>("a network such as 10.0.0.0/8", Cidr::parse);
    static final ScalarType<String> NBD_STRING = STRING.where(
            text -> text.getBytes(StandardCharsets.UTF_8).length <= 4096, "must be at most 4096 bytes in UTF-8");

    /** A size, or a percentage of {@code base}: the cache watermarks are relative to the cache size. */
    static ScalarType<Long> sizeOrPercentOf(long base) {
        return new ScalarType<>("a size or a percentage", text -> Sizes.parseRelative(text, base));
    }

    /** A file system path, made absolute against {@code base}: the directory of the configuration file. */
    static ScalarType<Path> path(Path base) {
        return new ScalarType<>("a path", text -> {
            if (text.isBlank()) {
                throw new IllegalArgumentException("a path must not be empty");
            }
            try {
                return base.resolve(text).toAbsolutePath().normalize();
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("invalid path \"" + text + "\": " + e.getReason(), e);
            }
        });
    }

    /** One of an enum's constants, spelled in any case; the message lists the valid spellings. */
    static <E extends Enum<E>> ScalarType<E> oneOf(Class<E> type, Function<E, String> spelling) {
        String choices = Arrays.stream(type.getEnumConstants()).map(spelling).collect(Collectors.joining(", "));
        return new ScalarType<>("one of " + choices, text -> Arrays.stream(type.getEnumConstants())
                .filter(constant -> spelling.apply(constant).equalsIgnoreCase(text.strip()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("expected one of " + choices + ", got \"" + text + "\"")));
    }

    /** This type, further restricted; {@code requirement} completes "must ..." in the message. */
    ScalarType<T> where(Predicate<T> valid, String requirement) {
        return new ScalarType<>(description, text -> {
            T value = parser.apply(text);
            if (!valid.test(value)) {
                throw new IllegalArgumentException(requirement + ", got " + text.strip());
            }
            return value;
        });
    }

    static boolean isPowerOfTwo(long value) {
        return value > 0 && (value & (value - 1)) == 0;
    }

    private static int parseCount(String text) {
        String trimmed = text.strip();
        if (trimmed.startsWith("-")) {
            throw new IllegalArgumentException("a count must not be negative, got " + trimmed);
        }
        if (!trimmed.matches("[0-9]{1,10}") || Long.parseLong(trimmed) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("expected a whole number up to " + Integer.MAX_VALUE + ", got \""
                    + text + "\"");
        }
        return Integer.parseInt(trimmed);
    }

    private static boolean parseBoolean(String text) {
        switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                throw new IllegalArgumentException("expected true or false, got \"" + text + "\"");
        }
    }
}
