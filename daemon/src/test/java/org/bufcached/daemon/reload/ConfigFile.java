package org.bufcached.daemon.reload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigException;
import org.bufcached.config.ConfigLoader;

/**
 * A YAML configuration file in a test's directory: exports on sparse files
 * there, one Unix socket there, no TCP, metrics off unless asked for (then on
 * an ephemeral loopback port). Tests change it and reload, as an operator would.
 */
public final class ConfigFile {
    public static final String SOCKET = "nbd.sock";

    private final Path dir;
    private final Path file;
    private final Map<String, String> exports = new LinkedHashMap<>();
    private String metrics = "  enabled: false\n";
    private String limits = "";
    private String tls = "";

    public ConfigFile(Path dir) {
        this.dir = dir;
        this.file = dir.resolve("bufcached.yaml");
    }

    /** Adds (or replaces) an export {@code NAME.img} of {@code size}; {@code extra} is more YAML keys, indented. */
    public ConfigFile export(String name, String size, String extra) {
        exports.put(name, "  - name: " + name + "\n    path: " + name + ".img\n    size: " + size + "\n" + extra);
        return this;
    }

    public ConfigFile export(String name) {
        return export(name, "4MiB", "");
    }

    public ConfigFile remove(String name) {
        exports.remove(name);
        return this;
    }

    public ConfigFile metricsOnEphemeralPort() {
        metrics = "  enabled: true\n  listen: 127.0.0.1:0\n";
        return this;
    }

    /** The body of the {@code limits:} section. */
    public ConfigFile limits(String yaml) {
        limits = yaml;
        return this;
    }

    /** The body of the {@code tls:} section. */
    public ConfigFile tls(String yaml) {
        tls = yaml;
        return this;
    }

    public Path path() {
        return file;
    }

    public Path socket() {
        return dir.resolve(SOCKET);
    }

    /** Writes the file and returns it loaded. */
    public BufcachedConfig write() {
        StringBuilder yaml = new StringBuilder("listen:\n  tcp: []\n  unix:\n    - " + SOCKET + "\nexports:\n");
        exports.values().forEach(yaml::append);
        yaml.append("metrics:\n").append(metrics);
        if (!limits.isEmpty()) {
            yaml.append("limits:\n").append(limits);
        }
        if (!tls.isEmpty()) {
            yaml.append("tls:\n").append(tls);
        }
        return writeRaw(yaml.toString());
    }

    /** Writes {@code yaml} as it is, for broken configurations; returns null if it does not load. */
    public BufcachedConfig writeRaw(String yaml) {
        try {
            Files.writeString(file, yaml);
            return ConfigLoader.load(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigException e) {
            return null;
        }
    }

    /** How a reload reads it. */
    public ConfigSource source() {
        return () -> ConfigLoader.load(file);
    }
}
