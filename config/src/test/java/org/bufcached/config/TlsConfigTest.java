package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.config.Yamls.at;
import static org.bufcached.config.Yamls.problem;
import static org.bufcached.config.Yamls.problems;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code tls} section and the TLS keys of exports: values, defaults, and every problem at its place. */
class TlsConfigTest {
    @TempDir
    Path dir;
    private Path certs;
    private Path psk;

    @BeforeEach
    void files() throws IOException {
        certs = Files.createDirectory(dir.resolve("certs"));
        psk = dir.resolve("keys.psk");
        Files.writeString(psk, "alice:00112233\n");
        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("rw-r-----"));
    }

    @Test
    void offByDefault() {
        assertThat(Yamls.parse("").tls()).isEqualTo(TlsConfig.OFF);
        assertThat(TlsConfig.OFF.enabled()).isFalse();
    }

    @Test
    void certificatesWithVerifyPeer() {
        TlsConfig tls = Yamls.parse("tls:\n  mode: require\n  certificates: " + certs + "\n  verify-peer: true\n"
                + "  provider: jdk\n").tls();
        assertThat(tls).isEqualTo(new TlsConfig(TlsMode.REQUIRE, Optional.of(certs), true, Optional.empty(),
                TlsProvider.JDK));
        assertThat(tls.psk()).isFalse();
    }

    @Test
    void pskFileThatOthersCannotRead() {
        TlsConfig tls = Yamls.parse("tls:\n  mode: on\n  psk-file: " + psk + "\n").tls();
        assertThat(tls.mode()).isEqualTo(TlsMode.ON);
        assertThat(tls.pskFile()).contains(psk);
        assertThat(tls.psk()).isTrue();
    }

    @Test
    void aPskFileReadableByOthersIsRefused() throws IOException {
        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(problem("tls:\n  mode: require\n  psk-file: " + psk + "\n")).isEqualTo(at(3, 13, "tls.psk-file",
                psk + " is readable by other users; its keys are secrets: chmod o-r " + psk));
    }

    @Test
    void missingFilesAndDirectories() {
        assertThat(problems("tls:\n  mode: require\n  certificates: " + dir.resolve("nope") + "\n"))
                .containsExactly(at(3, 17, "tls.certificates", "must be a readable directory, got " + dir.resolve("nope")));
        assertThat(problem("tls:\n  mode: require\n  psk-file: " + dir.resolve("nope.psk") + "\n"))
                .isEqualTo(at(3, 13, "tls.psk-file", dir.resolve("nope.psk") + " is not a readable file"));
    }

    @Test
    void settingsThatDoNotFitTogether() {
        assertThat(problem("tls:\n  mode: require\n")).isEqualTo(at(2, 9, "tls.mode",
                "TLS mode require needs certificates (a directory) or psk-file"));
        assertThat(problem("tls:\n  mode: on\n  certificates: " + certs + "\n  psk-file: " + psk + "\n"))
                .isEqualTo(at(4, 13, "tls.psk-file", "give either certificates or psk-file, not both (as with nbdkit)"));
        assertThat(problem("tls:\n  mode: on\n  psk-file: " + psk + "\n  verify-peer: true\n")).isEqualTo(at(4, 16,
                "tls.verify-peer", "verify-peer checks client certificates: it needs certificates "
                        + "(PSK clients are always verified by their key)"));
        assertThat(problem("tls:\n  mode: always\n").message()).isEqualTo("expected one of off, on, require, got \"always\"");
        assertThat(problem("tls:\n  provider: gnutls\n").message())
                .isEqualTo("expected one of auto, openssl, jdk, got \"gnutls\"");
    }

    @Test
    void exportOverridesAndIdentities() {
        BufcachedConfig config = Yamls.parse("tls:\n  mode: on\n  psk-file: " + psk + "\n"
                + "exports:\n"
                + "  - {name: open, path: a.img}\n"
                + "  - {name: secret, path: b.img, tls: require}\n"
                + "  - {name: alice, path: c.img, identities: [alice, \"CN=x, O=Example\"]}\n");
        TlsConfig tls = config.tls();
        assertThat(config.export("open").orElseThrow().tlsOnly(tls)).isFalse();
        assertThat(config.export("secret").orElseThrow().tlsOnly(tls)).isTrue();
        ExportConfig alice = config.export("alice").orElseThrow();
        assertThat(alice.identities()).containsExactly("alice", "CN=x, O=Example");
        assertThat(alice.tlsOnly(tls)).as("identities imply TLS").isTrue();
    }

    @Test
    void underRequireAnExportMayServePlaintext() {
        BufcachedConfig config = Yamls.parse("tls:\n  mode: require\n  psk-file: " + psk + "\n"
                + "exports:\n  - {name: a, path: a.img}\n  - {name: public, path: b.img, tls: on}\n");
        assertThat(config.export("a").orElseThrow().tlsOnly(config.tls())).isTrue();
        assertThat(config.export("public").orElseThrow().tlsOnly(config.tls())).isFalse();
    }

    @Test
    void exportTlsProblems() {
        assertThat(problem("exports:\n  - {name: a, path: a.img, tls: require}\n")).isEqualTo(at(2, 33,
                "exports[0].tls", "the daemon's TLS mode is off: set tls.mode to on or require"));
        assertThat(problem("exports:\n  - {name: a, path: a.img, identities: [bob]}\n")).isEqualTo(at(2, 40,
                "exports[0].identities", "the daemon's TLS mode is off: set tls.mode to on or require"));
        String x509 = "tls:\n  mode: on\n  certificates: " + certs + "\n";
        assertThat(problem(x509 + "exports:\n  - {name: a, path: a.img, identities: [bob]}\n")).isEqualTo(at(5, 40,
                "exports[0].identities",
                "identities of X.509 clients come from their certificates: set tls.verify-peer to true"));
        assertThat(problem(x509 + "  verify-peer: true\nexports:\n  - {name: a, path: a.img, tls: on, identities: [b]}\n"))
                .isEqualTo(at(6, 33, "exports[0].tls",
                        "an export with identities must require TLS: plaintext clients have no identity"));
        assertThat(problem(x509 + "exports:\n  - {name: a, path: a.img, tls: off}\n")).isEqualTo(at(5, 33,
                "exports[0].tls", "must be on (plaintext clients too) or require (TLS clients only), got off"));
        List<ConfigProblem> identities = problems(x509 + "  verify-peer: true\n"
                + "exports:\n  - {name: a, path: a.img, identities: [\"\", \"CN=a,=b\"]}\n");
        assertThat(identities).extracting(ConfigProblem::keyPath)
                .containsExactly("exports[0].identities[0]", "exports[0].identities[1]");
        assertThat(identities.get(0).message()).isEqualTo("an identity must not be empty");
        assertThat(identities.get(1).message()).startsWith("\"CN=a,=b\" is not a distinguished name");
    }

    @Test
    void everyTlsChangeAppliesLive() {
        BufcachedConfig before = Yamls.parse("exports:\n  - {name: a, path: a.img}\n");
        BufcachedConfig after = Yamls.parse("tls:\n  mode: on\n  psk-file: " + psk + "\n"
                + "exports:\n  - {name: a, path: a.img, tls: require, identities: [alice]}\n");
        ConfigDiff diff = ConfigDiff.between(before, after);
        assertThat(diff.needsRestart()).isFalse();
        assertThat(diff.exportsChanged()).isEmpty();
        assertThat(diff.live()).extracting(ConfigDiff.SettingChange::key).containsExactly("tls.mode", "tls.psk-file",
                "exports[a].tls", "exports[a].identities");
    }
}
