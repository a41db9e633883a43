package org.bufcached.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Entry point of the module: turns a YAML file or text into a validated
 * {@link BufcachedConfig}, or a {@link ConfigException} listing every problem.
 *
 * <p>Relative paths in a file are resolved against the file's directory, so a
 * configuration means the same whatever directory the daemon starts in
 * (systemd starts it in {@code /}). Parsed text and the embedded default
 * resolve them against the working directory.
 */
public final class ConfigLoader {
    /** Used when no {@code --config} is given, if it exists. */
    public static final Path SYSTEM_CONFIG = Path.of("/etc/bufcached/bufcached.yaml");

    private static final String EMBEDDED_DEFAULT = "default.yaml";
    private static final String EMBEDDED_NAME = "<embedded default>";

    private ConfigLoader() {
    }

    /** Reads and validates {@code file}; an unreadable file is reported as a problem like any other. */
    public static BufcachedConfig load(Path file) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigProblem(file.toString(), 0, 0, "",
                    "cannot read configuration file: " + reason(e))));
        }
        Path base = file.toAbsolutePath().getParent();
        return new ConfigParser(file.toString(), base).parse(yaml, Optional.of(file));
    }

    /** Validates YAML text; {@code sourceName} stands for the file in problems. */
    public static BufcachedConfig parse(String yaml, String sourceName) throws ConfigException {
        return new ConfigParser(sourceName, workingDirectory()).parse(yaml, Optional.empty());
    }

    /**
     * The configuration used when there is no file: export {@code demo} backed by
     * {@code var/demo.img} (1GiB), NBD on {@code 127.0.0.1:10809} and
     * {@code var/bufcached.sock}, everything else at its default.
     */
    public static BufcachedConfig defaults() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(EMBEDDED_DEFAULT)) {
            if (in == null) {
                throw new IllegalStateException(EMBEDDED_DEFAULT + " is missing from the class path");
            }
            String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new ConfigParser(EMBEDDED_NAME, workingDirectory()).parse(yaml, Optional.empty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ConfigException e) {
            throw new IllegalStateException("the embedded default configuration is invalid:\n" + e.getMessage(), e);
        }
    }

    /** What the daemon runs with when no {@code --config} is given: {@link #SYSTEM_CONFIG} if it exists, else {@link #defaults()}. */
    public static BufcachedConfig loadDefault() throws ConfigException {
        return Files.exists(SYSTEM_CONFIG) ? load(SYSTEM_CONFIG) : defaults();
    }

    private static Path workingDirectory() {
        return Path.of("").toAbsolutePath();
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof CharacterCodingException) {
            return "not valid UTF-8";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
