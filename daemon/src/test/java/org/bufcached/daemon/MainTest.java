package org.bufcached.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's exit codes: 2 for anything wrong with the arguments or the
 * configuration, 0 for help, version and a configuration that checks out. Every
 * run listens only on a socket in the temporary directory, and is bounded in time:
 * should validation let bad arguments through, the daemon would start and block.
 */
class MainTest {
    @TempDir
    Path dir;

    private int run(String... args) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10), () -> Main.run(args));
    }

    private String[] withSocket(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--unix";
        all[1] = dir.resolve("nbd.sock").toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return all;
    }

    private String export(String name, String file, String settings) {
        return name + "=" + dir.resolve(file) + settings;
    }

    @Test
    void unknownOptionIsExit2() {
        assertThat(run(withSocket("--no-such-option"))).isEqualTo(2);
    }

    @Test
    void exportWithoutEqualsIsExit2() {
        assertThat(run(withSocket("--export", dir.resolve("a.img").toString()))).isEqualTo(2);
        assertThat(run(withSocket("--export", "a="))).isEqualTo(2);
        assertThat(run(withSocket("--export", "=" + dir.resolve("a.img")))).isEqualTo(2);
    }

    @Test
    void garbageSizeIsExit2() {
        assertThat(run(withSocket("--export", export("a", "a.img", ",size=garbage")))).isEqualTo(2);
    }

    @Test
    void negativeOrZeroSizeIsExit2() {
        assertThat(run(withSocket("--export", export("a", "a.img", ",size=-1")))).isEqualTo(2);
        assertThat(run(withSocket("--export", export("a", "a.img", ",size=0")))).isEqualTo(2);
    }

    @Test
    void unknownExportSettingIsExit2() {
        assertThat(run(withSocket("--export", export("a", "a.img", ",size=1M,bogus")))).isEqualTo(2);
    }

    @Test
    void duplicateExportNamesAreExit2() {
        assertThat(run(withSocket("--export", export("a", "a.img", ",size=1M"),
                "--export", export("a", "b.img", ",size=1M")))).isEqualTo(2);
        assertThat(Files.exists(dir.resolve("a.img"))).as("nothing created").isFalse();
    }

    @Test
    void twoExportsOnTheSameFileAreExit2() {
        assertThat(run(withSocket("--export", export("a", "same.img", ",size=1M"),
                "--export", export("b", "same.img", ",size=1M")))).isEqualTo(2);
        assertThat(Files.exists(dir.resolve("same.img"))).as("nothing created").isFalse();
    }

    @Test
    void twoExportsOnTheSameFileSpelledDifferentlyAreExit2() {
        assertThat(run(withSocket("--export", "a=" + dir.resolve("same.img") + ",size=1M",
                "--export", "b=" + dir.resolve("sub/../same.img") + ",size=1M"))).isEqualTo(2);
    }

    @Test
    void badTcpAddressIsExit2() {
        assertThat(run("--tcp", "not-a-host-port")).isEqualTo(2);
    }

    @Test
    void helpAndVersionAreExit0() {
        assertThat(run("--help")).isZero();
        assertThat(run("--version")).isZero();
    }

    @Test
    void checkConfigOnAMissingFileIsExit2() {
        assertThat(run("--check-config", dir.resolve("missing.yaml").toString())).isEqualTo(2);
    }

    @Test
    void checkConfigOnInvalidYamlIsExit2AndOnAValidFileExit0() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "exports:\n  - name: [unclosed\n");
        assertThat(run("--check-config", bad.toString())).isEqualTo(2);
        Path good = Files.writeString(dir.resolve("good.yaml"), """
                listen:
                  unix:
                    - nbd.sock
                exports:
                  - name: a
                    path: a.img
                    size: 1MiB
                """);
        assertThat(run("--check-config", good.toString())).isZero();
    }

    @Test
    void missingConfigFileIsExit2() {
        assertThat(run(withSocket("--config", dir.resolve("missing.yaml").toString()))).isEqualTo(2);
    }

    @Test
    void tlsWithoutCredentialsOrWithBadOnesIsExit2() throws Exception {
        String disk = export("a", "a.img", ",size=1M");
        assertThat(run(withSocket("--export", disk, "--tls", "bogus"))).isEqualTo(2);
        assertThat(run(withSocket("--export", disk, "--tls", "require"))).isEqualTo(2);
        assertThat(run(withSocket("--export", disk, "--tls", "require", "--tls-certificates",
                dir.resolve("missing").toString()))).isEqualTo(2);
        Path psk = Files.writeString(dir.resolve("keys.psk"), "alice:0011\n");
        Files.setPosixFilePermissions(psk, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(run(withSocket("--export", disk, "--tls", "on", "--tls-psk", psk.toString(), "--tls-verify-peer")))
                .isEqualTo(2);
        // A directory without server-cert.pem gets as far as loading it: still a configuration error.
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThat(run(withSocket("--export", disk, "--metrics", "off", "--tls", "require", "--tls-certificates",
                empty.toString()))).isEqualTo(2);
    }

    @Test
    void exportIdentitiesWithTlsTurnedOffOnTheCommandLineAreExit2() throws Exception {
        Path psk = Files.writeString(dir.resolve("keys.psk"), "alice:0011\n");
        Files.setPosixFilePermissions(psk, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path config = Files.writeString(dir.resolve("c.yaml"), "tls:\n  mode: require\n  psk-file: keys.psk\n"
                + "exports:\n  - {name: a, path: a.img, size: 1M, identities: [alice]}\n");
        assertThat(run(withSocket("--config", config.toString(), "--check-config", config.toString()))).isZero();
        assertThat(run(withSocket("--config", config.toString(), "--tls", "off"))).isEqualTo(2);
    }
}
