package org.bufcached.config;

/**
 * One thing wrong with a configuration, located precisely enough that an
 * operator can fix it without guessing: the file, the 1-based line and column
 * of the offending YAML node, and the dotted key path such as
 * {@code exports[1].flush-class}.
 *
 * <p>A line of 0 means the problem has no position (an unreadable file); an
 * empty key path means it concerns the document rather than one key.
 */
public record ConfigProblem(String file, int line, int column, String keyPath, String message) {

    /** Formats as {@code file:line:column: key.path: message}, leaving out the parts that are unknown. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(file);
        if (line > 0) {
            text.append(':').append(line).append(':').append(column);
        }
        text.append(": ");
        if (!keyPath.isEmpty()) {
            text.append(keyPath).append(": ");
        }
        return text.append(message).toString();
    }
}
