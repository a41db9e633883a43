package org.bufcached.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bufcache launcher (bin/bufcache, installed as /usr/bin/bufcache) and its class
 * data sharing: a short subcommand's first run leaves an archive in the cache
 * directory, later runs map it, stdout carries bufcache's output only, a new jar
 * replaces the archive, and nothing is kept for options or with BUFCACHE_CDS=off.
 * Runs the jar this build made, against nbdkit's memory plugin on a Unix socket.
 */
class LauncherIT {
    private static final Path BASE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path LAUNCHER = BASE.resolve("../bin/bufcache").normalize();
    private static final Path CLIENT_JAR = BASE.resolve("../client/target/bufcache.jar").normalize();
    private static final Duration RUN = Duration.ofSeconds(120);

    @TempDir
    Path tmp;
    private Path jar;
    private Path cache;
    private Process nbdkit;
    private String uri;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/nbdkit")), "nbdkit is not installed; skipping");
        jar = Files.copy(CLIENT_JAR, tmp.resolve("bufcache.jar"));
        cache = tmp.resolve("cache");
        Path socket = tmp.resolve("nbdkit.sock");
        nbdkit = new ProcessBuilder("nbdkit", "-f", "-U", socket.toString(), "memory", "1M")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("nbdkit.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!connectable(socket)) {
            assertThat(nbdkit.isAlive()).as("nbdkit: %s", Files.readString(tmp.resolve("nbdkit.log"))).isTrue();
            assertThat(System.nanoTime()).as("nbdkit listening in time").isLessThan(deadline);
            Thread.sleep(20);
        }
        uri = "nbd+unix:///?socket=" + socket;
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (nbdkit != null) {
            nbdkit.destroy();
            nbdkit.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theFirstRunOfASubcommandKeepsAnArchiveThatLaterRunsMap() throws Exception {
        Result first = run(Map.of(), "info", uri);
        first.assertOk();
        assertThat(first.out).contains("size:             1048576 (1 MiB)").doesNotContain("[warning]");
        assertThat(first.err).isEmpty();
        List<Path> archives = files(cache.resolve("bufcache"));
        assertThat(archives).as("one archive, no partial one").hasSize(1)
                .allSatisfy(a -> assertThat(a.getFileName().toString()).startsWith("info-").endsWith(".jsa"));

        Result second = run(Map.of(), "info", uri);
        second.assertOk();
        assertThat(second.out).isEqualTo(first.out);
        assertThat(second.err).isEmpty();
        // The JVM says where each class came from: bufcache's own from the archive.
        Result traced = run(Map.of("BUFCACHE_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:class+load"),
                "info", uri);
        traced.assertOk();
        assertThat(traced.out).containsPattern("org\\.bufcached\\.client\\.cli\\.InfoCommand source: shared objects file");

        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
        run(Map.of(), "info", uri).assertOk();
        assertThat(files(cache.resolve("bufcache"))).as("the archive of the new jar replaces the old one").hasSize(1)
                .doesNotContainAnyElementsOf(archives);
    }

    @Test
    void nothingIsKeptForOptionsOrWhenTurnedOff() throws Exception {
        Result version = run(Map.of(), "--version");
        version.assertOk();
        assertThat(version.out).startsWith("bufcache ");
        Result off = run(Map.of("BUFCACHE_CDS", "off"), "info", uri);
        off.assertOk();
        assertThat(off.out).contains("1048576");
        assertThat(cache).doesNotExist();
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static boolean connectable(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Result run(Map<String, String> env, String... args) throws Exception {
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        ProcessBuilder pb = new ProcessBuilder(Stream.concat(Stream.of(LAUNCHER.toString()), Stream.of(args)).toList())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("BUFCACHE_JAR", jar.toString());
        pb.environment().put("XDG_CACHE_HOME", cache.toString());
        pb.environment().remove("BUFCACHE_JAVA_OPTS");
        pb.environment().remove("BUFCACHE_CDS");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(RUN.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", args) + " did not finish within " + RUN);
        }
        return new Result(List.of(args), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private record Result(List<String> args, int code, String out, String err) {
        void assertOk() {
            assertThat(code).as("exit status of bufcache %s%n--- stdout ---%n%s%n--- stderr ---%n%s", args, out, err)
                    .isZero();
        }
    }
}
