package org.bufcached.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.yaml.snakeyaml.error.Mark;

/**
 * Collects the problems of one parse so that they can all be reported at once,
 * each placed at the YAML node it concerns.
 */
final class Problems {
    private final String source;
    private final List<ConfigProblem> problems = new ArrayList<>();

    Problems(String source) {
        this.source = source;
    }

    /** Records a problem at {@code mark}; a null mark means there is no position to give. */
    void add(Mark mark, String keyPath, String message) {
        int line = mark == null ? 0 : mark.getLine() + 1;
        int column = mark == null ? 0 : mark.getColumn() + 1;
        problems.add(new ConfigProblem(source, line, column, keyPath, message));
    }

    int count() {
        return problems.size();
    }

    /** Throws the problems in document order, whatever order the sections were read in. */
    void throwIfAny() throws ConfigException {
        if (!problems.isEmpty()) {
            problems.sort(Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column));
            throw new ConfigException(problems);
        }
    }
}
