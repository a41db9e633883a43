package org.bufcached.daemon.interop;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs the external NBD peers (nbdinfo, qemu-img, fio, ...): every command with a
 * timeout, its process tree killed when it overruns, standard output and error
 * captured, and a JUnit assumption that skips the test when the tool is not
 * installed.
 */
final class Tool {
    /** The system interpreter: the one Debian's python3-libnbd installs its module for. */
    static final String PYTHON = "/usr/bin/python3";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private static final Map<String, Boolean> PYTHON_MODULES = new ConcurrentHashMap<>();

    private Tool() {
    }

    /** What a finished command left behind. */
    record Result(List<String> command, int exitCode, String stdout, String stderr, long millis) {
        boolean ok() {
            return exitCode == 0;
        }

        /** Fails the test with the command's output unless it exited 0. */
        Result assertOk() {
            if (exitCode != 0) {
                throw new AssertionError("command failed (exit " + exitCode + "): " + describe());
            }
            return this;
        }

        /** Fails the test unless the command exited non-zero (for checks that must catch a fault). */
        Result assertFails() {
            if (exitCode == 0) {
                throw new AssertionError("command should have failed but exited 0: " + describe());
            }
            return this;
        }

        String describe() {
            return String.join(" ", command) + " [" + millis + " ms]\n--- stdout ---\n" + tail(stdout)
                    + "\n--- stderr ---\n" + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() <= 6000 ? s : "...\n" + s.substring(s.length() - 6000);
        }
    }

    /** Skips the test unless {@code program} is on the PATH; {@code pkg} names the Debian package for the message. */
    static void require(String program, String pkg) {
        assumeTrue(which(program).isPresent(), program + " is not installed (Debian package " + pkg + "); skipping");
    }

    /** Skips the test unless the system python has the {@code nbd} module of python3-libnbd. */
    static void requirePythonNbd() {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is not installed (Debian package python3); skipping");
        boolean has = PYTHON_MODULES.computeIfAbsent("nbd",
                m -> run(Duration.ofSeconds(20), PYTHON, "-c", "import " + m).ok());
        assumeTrue(has, "python module nbd is missing for " + PYTHON + " (Debian package python3-libnbd); skipping");
    }

    static Optional<Path> which(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        // Tools such as losetup and mkfs live in sbin, which a non-login PATH may lack.
        for (String dir : (path + ":/usr/local/sbin:/usr/sbin:/sbin").split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, program);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static Result run(String... command) {
        return run(DEFAULT_TIMEOUT, command);
    }

    static Result run(Duration timeout, String... command) {
        return run(timeout, null, List.of(command));
    }

    /**
     * Runs {@code command} in {@code dir} (null: the test's own) with no standard
     * input, waits at most {@code timeout}, and kills the process and its
     * descendants if it takes longer; a timeout fails the test.
     */
    static Result run(Duration timeout, Path dir, List<String> command) {
        return run(timeout, dir, command, Map.of());
    }

    /** As {@link #run(Duration, Path, List)}, with {@code env} added to the environment. */
    static Result run(Duration timeout, Path dir, List<String> command, Map<String, String> env) {
        List<String> cmd = new ArrayList<>(command);
        which(cmd.get(0)).ifPresent(p -> cmd.set(0, p.toString()));
        Path out;
        Path err;
        try {
            out = Files.createTempFile("it-tool-", ".out");
            err = Files.createTempFile("it-tool-", ".err");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long start = System.nanoTime();
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            pb.environment().putAll(env);
            Process p = pb.start();
            boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                killTree(p.toHandle());
                p.waitFor(10, TimeUnit.SECONDS);
                long ms = (System.nanoTime() - start) / 1_000_000;
                Result r = new Result(cmd, -1, read(out), read(err), ms);
                throw new AssertionError("command timed out after " + timeout.toSeconds() + " s and was killed: "
                        + r.describe());
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            return new Result(cmd, p.exitValue(), read(out), read(err), ms);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + cmd, e);
        } finally {
            try {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            } catch (IOException ignored) {
                // temp files; nothing to do
            }
        }
    }

    /**
     * Writes {@code script} to {@code dir} and runs it with the system python and
     * {@code args}; {@code sys.argv[1:]} are the args.
     */
    static Result python(Path dir, String name, String script, Duration timeout, String... args) {
        Path file = dir.resolve(name);
        try {
            Files.writeString(file, script, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(List.of(PYTHON, file.toString()));
        cmd.addAll(List.of(args));
        return run(timeout, dir, cmd);
    }

    /**
     * Runs nbdsh as {@code /usr/bin/python3 -m nbd}: the nbdsh script runs
     * whichever {@code python3} comes first on the PATH, which may lack the module.
     */
    static Result nbdsh(String... args) {
        requirePythonNbd();
        List<String> cmd = new ArrayList<>(List.of(PYTHON, "-m", "nbd"));
        cmd.addAll(List.of(args));
        return run(DEFAULT_TIMEOUT, null, cmd);
    }

    /**
     * Starts a long-running peer (such as nbdfuse) with its output in {@code log};
     * the caller stops it, and {@link #killTree} ends it if it does not stop.
     */
    static Process background(Path log, String... command) {
        List<String> cmd = new ArrayList<>(List.of(command));
        which(cmd.get(0)).ifPresent(p -> cmd.set(0, p.toString()));
        try {
            return new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** The whole text of a file, or a note that it cannot be read. */
    static String text(Path file) {
        return read(file);
    }

    /** SIGKILLs the process and everything it started, children first. */
    static void killTree(ProcessHandle root) {
        root.descendants().forEach(ProcessHandle::destroyForcibly);
        root.destroyForcibly();
    }

    /** The file's text; bytes that are not UTF-8 become replacement characters. */
    private static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<cannot read output: " + e + ">";
        }
    }
}
