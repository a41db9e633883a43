package org.bufcached.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version and git commit this build was made from, stamped in at build time.
 * It lives in the protocol module because both commands depend on it, so
 * {@code bufcached --version} and {@code bufcache --version} always agree.
 *
 * @param version the project version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param commit  the abbreviated commit id (12 digits), {@code unknown} when built
 *                outside git (from a source tarball)
 */
public record BuildInfo(String version, String commit) {
    private static final BuildInfo CURRENT = load();

    /** The build of the classes running now. */
    public static BuildInfo current() {
        return CURRENT;
    }

    /** {@code NAME VERSION (commit COMMIT)}, the line both commands print for {@code --version}. */
    public String describe(String program) {
        return program + " " + version + " (commit " + commit + ")";
    }

    private static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return new BuildInfo("unknown", "unknown");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new BuildInfo(stamped(p.getProperty("version")), stamped(p.getProperty("commit")));
    }

    /** A property that resource filtering did not fill in (an IDE build) reads as unknown. */
    private static String stamped(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value;
    }
}
