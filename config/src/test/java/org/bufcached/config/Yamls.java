package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;

/** Shortcuts for tests that parse YAML text. */
final class Yamls {
    static final String FILE = "bufcached.yaml";

    private Yamls() {
    }

    static BufcachedConfig parse(String yaml) {
        try {
            return ConfigLoader.parse(yaml, FILE);
        } catch (ConfigException e) {
            throw new AssertionError("unexpected problems:\n" + e.getMessage(), e);
        }
    }

    static List<ConfigProblem> problems(String yaml) {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, FILE)).isInstanceOf(ConfigException.class);
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, FILE)).problems();
    }

    static ConfigProblem problem(String yaml) {
        List<ConfigProblem> problems = problems(yaml);
        if (problems.size() != 1) {
            throw new AssertionError("expected one problem, got:\n" + problems);
        }
        return problems.get(0);
    }

    static ConfigProblem at(int line, int column, String keyPath, String message) {
        return new ConfigProblem(FILE, line, column, keyPath, message);
    }
}
