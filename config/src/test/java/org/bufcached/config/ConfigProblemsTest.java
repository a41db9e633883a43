package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.bufcached.config.Yamls.at;
import static org.bufcached.config.Yamls.problem;
import static org.bufcached.config.Yamls.problems;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad configuration, each reported at its file, line, column and key path. */
class ConfigProblemsTest {

    @Test
    void unknownKeySuggestsTheNearestValidKey() {
        assertThat(problem("cache:\n  hidirtybufspac: 1G\n")).isEqualTo(at(2, 3, "cache.hidirtybufspac",
                "unknown key 'hidirtybufspac' (did you mean 'hidirtybufspace'?)"));
        assertThat(problem("exports:\n  - name: a\n    path: a.img\n    flushclass: heavy\n")).isEqualTo(at(4, 5,
                "exports[0].flushclass", "unknown key 'flushclass' (did you mean 'flush-class'?)"));
        assertThat(problem("listn: {}\n").message()).isEqualTo("unknown key 'listn' (did you mean 'listen'?)");
    }

    @Test
    void unknownKeyFarFromAnyValidKeyListsTheValidKeys() {
        assertThat(problem("metrics:\n  prometheus: true\n")).isEqualTo(at(2, 3, "metrics.prometheus",
                "unknown key 'prometheus' (valid keys: enabled, listen)"));
    }

    @Test
    void wrongTypesAreProblemsNotExceptions() {
        assertThat(problems("cache: [1, 2]\nlimits: 5\nexports: {name: a}\nmetrics:\n  listen: [a]\n"))
                .containsExactly(
                        at(1, 8, "cache", "expected a map, got a list"),
                        at(2, 9, "limits", "expected a map, got \"5\""),
                        at(3, 10, "exports", "expected a list, got a map"),
                        at(5, 11, "metrics.listen",
                                "expected a \"host:port\" string (quote IPv6 forms such as \"[::1]:10809\"), got a list"));
    }

    @Test
    void badScalarsNameTheKeyPath() {
        String yaml = "exports:\n"
                + "  - name: a\n"
                + "    path: a.img\n"
                + "  - name: b\n"
                + "    path: b.img\n"
                + "    flush-class: fast\n"
                + "    readonly: yes\n"
                + "    allow: [10.0.0.0/8, 10.1.2.3/8, example.com]\n"
                + "cache:\n"
                + "  size: abc\n"
                + "io:\n"
                + "  workers: -2\n"
                + "limits:\n"
                + "  handshake-timeout: 0\n"
                + "  idle-timeout: soon\n"
                + "  max-handshaking: 0\n"
                + "  max-handshaking-per-address: many\n"
                + "  payload-memory: 0\n"
                + "logging:\n"
                + "  level: LOUD\n";
        assertThat(problems(yaml)).containsExactly(
                at(6, 18, "exports[1].flush-class", "expected one of light, heavy, got \"fast\""),
                at(7, 15, "exports[1].readonly", "expected true or false, got \"yes\""),
                at(8, 25, "exports[1].allow[1]", "\"10.1.2.3/8\" has host bits set below the /8 prefix"),
                at(8, 37, "exports[1].allow[2]",
                        "expected an IPv4 or IPv6 network such as 10.0.0.0/8 or fd00::/8, got \"example.com\""),
                at(10, 9, "cache.size", "expected a size such as 4096, 512K or 64MiB, got \"abc\""),
                at(12, 12, "io.workers", "a count must not be negative, got -2"),
                at(14, 22, "limits.handshake-timeout", "must be longer than 0, got 0"),
                at(15, 17, "limits.idle-timeout", "expected a duration such as 500ms, 10s, 2m or 1h, got \"soon\""),
                at(16, 20, "limits.max-handshaking", "must be at least 1, got 0"),
                at(17, 32, "limits.max-handshaking-per-address",
                        "expected a whole number up to 2147483647, got \"many\""),
                at(18, 19, "limits.payload-memory", "must be greater than 0, got 0"),
                at(20, 10, "logging.level", "expected one of TRACE, DEBUG, INFO, WARN, ERROR, got \"LOUD\""));
    }

    @Test
    void negativeSizesAreRejected() {
        assertThat(problem("cache:\n  max-mapped: -1G\n"))
                .isEqualTo(at(2, 15, "cache.max-mapped", "a size must not be negative, got \"-1G\""));
        assertThat(problem("exports:\n  - {name: a, path: a.img, size: -4096}\n").keyPath())
                .isEqualTo("exports[0].size");
    }

    @Test
    void inconsistentCacheSizesNameBothValues() {
        assertThat(problem("cache:\n  lodirtybufspace: 100MiB\n  hidirtybufspace: 50MiB\n")).isEqualTo(at(2, 20,
                "cache.lodirtybufspace", "lodirtybufspace (100MiB) must not exceed hidirtybufspace (50MiB)"));
        assertThat(problem("cache:\n  window-size: 1GiB\n  max-mapped: 512MiB\n")).isEqualTo(at(2, 16,
                "cache.window-size", "window-size (1GiB) must not exceed max-mapped (512MiB)"));
    }

    @Test
    void inconsistencyWithADefaultBlamesTheKeyThatIsSet() {
        assertThat(problem("cache:\n  max-mapped: 512MiB\n")).isEqualTo(at(2, 15,
                "cache.max-mapped", "window-size (1GiB, the default) must not exceed max-mapped (512MiB)"));
        assertThat(problem("cache:\n  buffer-size: 2MiB\n")).isEqualTo(at(2, 16, "cache.buffer-size",
                "buffer-size (2MiB) must not exceed cluster-limit (1MiB, the default)"));
    }

    @Test
    void cacheGeometryRules() {
        assertThat(problems("cache:\n  buffer-size: 3000\n  window-size: 1000000\n  flushperqueue: 0\n"))
                .containsExactly(
                        at(2, 16, "cache.buffer-size", "must be a power of two of at least 4KiB, got 3000"),
                        at(3, 16, "cache.window-size", "must be a multiple of 4KiB, at most 1GiB, got 1000000"),
                        at(4, 18, "cache.flushperqueue", "must be at least 1, got 0"));
        assertThat(problem("cache:\n  buffer-size: 1MiB\n  cluster-limit: 1MiB\n  window-size: 1028KiB\n"))
                .isEqualTo(at(4, 16, "cache.window-size", "window-size (1028KiB) must be a multiple of buffer-size (1MiB)"));
        assertThat(problem("cache:\n  size: 1MiB\n  buffer-size: 2MiB\n  cluster-limit: 2MiB\n")).isEqualTo(
                at(3, 16, "cache.buffer-size", "buffer-size (2MiB) must not exceed size (1MiB)"));
        assertThat(problem("cache:\n  window-size: 2GiB\n  max-mapped: 4GiB\n")).isEqualTo(
                at(2, 16, "cache.window-size", "must be a multiple of 4KiB, at most 1GiB, got 2GiB"));
        assertThat(problem("cache:\n  hibufspace: 101%\n").message())
                .isEqualTo("a percentage must be between 0% and 100%, got \"101%\"");
        assertThat(problem("cache:\n  cluster-limit: 50%\n").message()).startsWith("a percentage is not allowed here");
    }

    @Test
    void duplicateExportNames() {
        String yaml = "exports:\n  - name: disk\n    path: a.img\n  - name: disk\n    path: b.img\n";
        assertThat(problem(yaml)).isEqualTo(at(4, 11, "exports[1].name",
                "export name 'disk' is already used (first at exports[0].name, line 2)"));
    }

    @Test
    void twoExportsOnOneFileAreCaughtThroughDifferentSpellings() {
        String yaml = "exports:\n  - name: a\n    path: /srv/disk.img\n  - name: b\n    path: /srv/x/../disk.img\n";
        assertThat(problem(yaml)).isEqualTo(at(5, 11, "exports[1].path",
                "file /srv/disk.img is already exported (first at exports[0].path, line 3)"));
    }

    @Test
    void exportRequirements() {
        String yaml = "exports:\n"
                + "  - path: a.img\n"
                + "  - name: ''\n"
                + "    path: b.img\n"
                + "  - name: c\n"
                + "    path: c.img\n"
                + "    min-block-size: 512\n"
                + "    size: 1000\n"
                + "  - name: " + "x".repeat(4097) + "\n"
                + "    path: d.img\n";
        assertThat(problems(yaml)).containsExactly(
                at(2, 5, "exports[0]", "missing required key 'name'"),
                at(3, 11, "exports[1].name", "must not be empty, got "),
                at(8, 11, "exports[2].size", "size 1000 is not a multiple of min-block-size 512"),
                at(9, 11, "exports[3].name", "must be at most 4096 bytes in UTF-8, got " + "x".repeat(4097)));
    }

    @Test
    void nbdBlockSizeRules() {
        String yaml = "exports:\n"
                + "  - name: a\n"
                + "    path: a.img\n"
                + "    min-block-size: 128KiB\n"
                + "    preferred-block-size: 256\n"
                + "    max-payload: 3MiB\n"
                + "  - name: b\n"
                + "    path: b.img\n"
                + "    min-block-size: 8KiB\n"
                + "    max-payload: 2KiB\n";
        assertThat(problems(yaml)).containsExactly(
                at(4, 21, "exports[0].min-block-size", "must be a power of two from 1 to 64KiB, got 128KiB"),
                at(5, 27, "exports[0].preferred-block-size", "must be a power of two from 512 to 1GiB, got 256"),
                at(6, 18, "exports[0].max-payload", "must be a power of two from 512 to 1GiB, got 3MiB"),
                at(9, 21, "exports[1].min-block-size",
                        "min-block-size (8KiB) must not exceed preferred-block-size (4KiB, the default)"),
                at(10, 18, "exports[1].max-payload",
                        "preferred-block-size (4KiB, the default) must not exceed max-payload (2KiB)"));
    }

    @Test
    void listenProblems() {
        String yaml = "listen:\n"
                + "  tcp:\n"
                + "    - 127.0.0.1:10809\n"
                + "    - 127.0.0.1:10809\n"
                + "    - '::1:10809'\n"
                + "  unix:\n"
                + "    - path: a.sock\n"
                + "      mode: 999\n"
                + "      owner: 'nbd:'\n"
                + "    - mode: '0600'\n";
        assertThat(problems(yaml)).containsExactly(
                at(4, 7, "listen.tcp[1]", "listen address 127.0.0.1:10809 is repeated (first at listen.tcp[0], line 3)"),
                at(5, 7, "listen.tcp[2]", "write IPv6 addresses in brackets, as in \"[::1]:10809\"; got \"::1:10809\""),
                at(8, 13, "listen.unix[0].mode", "expected an octal mode such as \"0660\", got \"999\""),
                at(9, 14, "listen.unix[0].owner", "expected an owner such as \"nbd\" or \"nbd:disk\", got \"nbd:\""),
                at(10, 7, "listen.unix[1]", "missing required key 'path'"));
    }

    @Test
    void anEmptyListenerSetIsAProblem() {
        assertThat(problem("listen:\n  tcp: []\n"))
                .isEqualTo(at(2, 3, "listen", "no listen address: configure at least one tcp or unix entry"));
    }

    @Test
    void duplicateKeys() {
        assertThat(problem("cache:\n  size: 1G\n  size: 2G\n"))
                .isEqualTo(at(3, 3, "cache.size", "duplicate key 'size' (first set at line 2)"));
    }

    @Test
    void malformedYamlIsOneProblemAtTheParserPosition() {
        ConfigProblem problem = problem("cache:\n  size: 1G\n   buffer-size: [64K\n");
        assertThat(problem.line()).isEqualTo(3);
        assertThat(problem.keyPath()).isEmpty();
        assertThat(problem.message()).startsWith("invalid YAML: ");
        assertThat(problem("a: b\n---\nc: d\n").message()).isEqualTo("invalid YAML: but found another document");
    }

    @Test
    void aDocumentThatIsNotAMap() {
        assertThat(problem("- listen\n")).isEqualTo(at(1, 1, "", "expected a map, got a list"));
    }

    @Test
    void missingAndUnreadableFilesAreOneProblem(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.yaml");
        assertThat(loadProblems(missing)).containsExactly(
                new ConfigProblem(missing.toString(), 0, 0, "", "cannot read configuration file: no such file"));
        assertThat(loadProblems(dir)).hasSize(1);
        Path binary = Files.write(dir.resolve("binary.yaml"), new byte[] {(byte) 0xff, (byte) 0xfe, 0});
        assertThat(loadProblems(binary)).containsExactly(
                new ConfigProblem(binary.toString(), 0, 0, "", "cannot read configuration file: not valid UTF-8"));
    }

    @Test
    void loggingPathMustBeAReadableFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("bufcached.yaml"), "logging:\n  path: nope.xml\n");
        assertThat(loadProblems(file)).containsExactly(new ConfigProblem(file.toString(), 2, 9, "logging.path",
                "must be a readable file, got nope.xml"));
    }

    @Test
    void theMessageHasOneLinePerProblemWithFileLineColumnAndKey() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
                "exports:\n  - name: a\n    path: a.img\n  - name: b\n    path: b.img\n    flush-class: fast\n"
                        + "cache:\n  hidirtybufspac: 1G\n", "bufcached.yaml"));
        assertThat(e.getMessage()).isEqualTo(
                "bufcached.yaml:6:18: exports[1].flush-class: expected one of light, heavy, got \"fast\"\n"
                        + "bufcached.yaml:8:3: cache.hidirtybufspac: unknown key 'hidirtybufspac'"
                        + " (did you mean 'hidirtybufspace'?)");
    }

    private static List<ConfigProblem> loadProblems(Path file) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file)).problems();
    }
}
