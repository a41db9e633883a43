package org.bufcached.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown when a configuration cannot be used. It carries every problem found,
 * not just the first, so that one attempt to start the daemon tells the
 * operator everything that has to be fixed. The daemon exits with status 2 on it.
 */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<ConfigProblem> problems;

    public ConfigException(List<ConfigProblem> problems) {
        super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** The problems in document order; never empty. */
    public List<ConfigProblem> problems() {
        return problems;
    }
}
