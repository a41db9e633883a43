package org.bufcached.config;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * One parse of one document: composes the YAML into a node tree (keeping every
 * node's position), hands each section to its reader and throws all problems
 * found at once.
 */
final class ConfigParser {
    static final List<String> KEYS = List.of("listen", "exports", "cache", "io", "limits", "metrics", "logging",
            "tls", "admin");

    private final Problems problems;
    private final Path base;

    /**
     * @param sourceName what problems name as the file
     * @param base       directory that relative paths in the document are resolved against
     */
    ConfigParser(String sourceName, Path base) {
        this.problems = new Problems(sourceName);
        this.base = base;
    }

    BufcachedConfig parse(String yaml, Optional<Path> source) throws ConfigException {
        YamlMap root = compose(yaml);
        TlsConfig tls = TlsSection.parse(root.map("tls", TlsSection.KEYS), base, problems);
        BufcachedConfig config = new BufcachedConfig(
                ListenSection.parse(root.map("listen", ListenSection.KEYS), base, problems),
                ExportsSection.parse(root.list("exports"), base, tls),
                CacheSection.parse(root.map("cache", CacheSection.KEYS), problems),
                IoSection.parse(root.map("io", IoSection.KEYS)),
                LimitsSection.parse(root.map("limits", LimitsSection.KEYS)),
                MetricsSection.parse(root.map("metrics", MetricsSection.KEYS)),
                LoggingSection.parse(root.map("logging", LoggingSection.KEYS), base),
                tls,
                AdminSection.parse(root.map("admin", AdminSection.KEYS), base),
                source);
        problems.throwIfAny();
        return config;
    }

    /** The document's top-level map; an empty document, or one that cannot be read, is an empty map. */
    private YamlMap compose(String yaml) {
        try {
            Node node = new Yaml().compose(new StringReader(yaml));
            if (node != null) {
                return new YamlValue(node, "", problems).asMap(KEYS).orElseGet(this::empty);
            }
        } catch (MarkedYAMLException e) {
            problems.add(e.getProblemMark(), "", "invalid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            problems.add(null, "", "invalid YAML: " + e.getMessage());
        }
        return empty();
    }

    private YamlMap empty() {
        return YamlMap.absent("", problems);
    }
}
