package org.bufcached.daemon.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped units and snippets, checked by systemd's own tools. Skipped with a
 * message where the tools are missing (the systemd package provides them).
 */
class SystemdUnitsTest {
    /** The repository's systemd/ folder; surefire runs in the daemon module. */
    private static final Path UNITS = Path.of(System.getProperty("basedir", "."), "..", "systemd").normalize();

    @TempDir
    Path dir;

    @Test
    void unitsPassSystemdAnalyzeVerify() throws Exception {
        assumeTrue(onPath("systemd-analyze"), "systemd-analyze not installed (package systemd)");
        // verify insists that ExecStart= names an executable; the launcher is not installed
        // here, so a stand-in takes its path and the rest of the unit is checked as shipped.
        Path launcher = dir.resolve("bufcached");
        Files.writeString(launcher, "#!/bin/sh\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path service = dir.resolve("bufcached.service");
        Files.writeString(service, Files.readString(UNITS.resolve("bufcached.service"))
                .replace("/usr/bin/bufcached", launcher.toString()));
        Path socket = Files.copy(UNITS.resolve("bufcached.socket"), dir.resolve("bufcached.socket"));
        Result r = run("systemd-analyze", "verify", service.toString(), socket.toString());
        assertThat(r.output).as("systemd-analyze verify output").isEmpty();
        assertThat(r.status).isZero();
    }

    @Test
    void sysusersAndTmpfilesSnippetsApply() throws Exception {
        assumeTrue(onPath("systemd-sysusers") && onPath("systemd-tmpfiles"), "systemd-sysusers/-tmpfiles not installed");
        Path root = Files.createDirectories(dir.resolve("root/etc")).getParent();
        Result users = run("systemd-sysusers", "--root=" + root, UNITS.resolve("sysusers.d/bufcached.conf").toString());
        assertThat(users.status).as(users.output).isZero();
        assertThat(Files.readString(root.resolve("etc/passwd"))).contains("bufcached:");
        Result dirs = run("systemd-tmpfiles", "--root=" + root, "--create",
                UNITS.resolve("tmpfiles.d/bufcached.conf").toString());
        assertThat(dirs.status).as(dirs.output).isZero();
        assertThat(root.resolve("run/bufcached")).isDirectory();
        assertThat(root.resolve("var/lib/bufcached")).isDirectory();
    }

    private record Result(int status, String output) {
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return new Result(p.waitFor(), output);
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
