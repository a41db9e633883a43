package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bufcached.config.Yamls.parse;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final Path CWD = Path.of("").toAbsolutePath();

    @Test
    void anEmptyDocumentIsAllDefaults() {
        BufcachedConfig config = parse("");
        assertThat(config.listen()).isEqualTo(new ListenConfig(List.of(new HostPort("127.0.0.1", 10809)), List.of()));
        assertThat(config.exports()).isEmpty();
        assertThat(config.limits()).isEqualTo(new LimitsConfig(1024, 256, 32, 8, Duration.ofSeconds(10), Duration.ZERO,
                Duration.ofSeconds(60), Duration.ofSeconds(30), OptionalLong.empty(), Duration.ofSeconds(10)));
        assertThat(config.metrics()).isEqualTo(new MetricsConfig(true, new HostPort("127.0.0.1", 10810)));
        assertThat(config.logging()).isEqualTo(new LoggingConfig(LogLevel.INFO, Optional.empty()));
        assertThat(config.source()).isEmpty();
        assertThat(parse("# only a comment\n")).isEqualTo(config);
        assertThat(parse("cache:\nlimits: ~\n")).isEqualTo(config);
    }

    @Test
    void theEmbeddedDefaultServesADemoExport() {
        BufcachedConfig config = ConfigLoader.defaults();
        assertThat(config.listen().tcp()).containsExactly(new HostPort("127.0.0.1", 10809));
        assertThat(config.listen().unix()).containsExactly(new ListenUnix(CWD.resolve("var/bufcached.sock"),
                OptionalInt.empty(), Optional.empty(), Optional.empty()));
        assertThat(config.exports()).singleElement().satisfies(demo -> {
            assertThat(demo.name()).isEqualTo("demo");
            assertThat(demo.path()).isEqualTo(CWD.resolve("var/demo.img"));
            assertThat(demo.size()).hasValue(1L << 30);
        });
        assertThat(config.cache()).isEqualTo(parse("").cache());
    }

    @Test
    void parsesAFullExport() throws IOException {
        BufcachedConfig config = parse("exports:\n"
                + "  - name: vm1\n"
                + "    path: /srv/vm1.img\n"
                + "    size: 20G\n"
                + "    readonly: true\n"
                + "    description: the first VM\n"
                + "    min-block-size: 512\n"
                + "    preferred-block-size: 64K\n"
                + "    max-payload: 8M\n"
                + "    flush-class: HEAVY\n"
                + "    allow: [192.168.0.0/16, 'fd00::/8']\n");
        ExportConfig export = config.export("vm1").orElseThrow();
        assertThat(export).isEqualTo(new ExportConfig("vm1", Path.of("/srv/vm1.img"), OptionalLong.of(20L << 30),
                true, Optional.of("the first VM"), new BlockSizes(512, 65536, 8 << 20), FlushClass.HEAVY,
                List.of(Cidr.parse("192.168.0.0/16"), Cidr.parse("fd00::/8"))));
        assertThat(export.allows(InetAddress.getByName("192.168.1.1"))).isTrue();
        assertThat(export.allows(InetAddress.getByName("10.0.0.1"))).isFalse();
    }

    @Test
    void exportDefaultsAllowEveryoneAndAnEmptyAllowListNoTcpClient() throws IOException {
        BufcachedConfig config = parse("exports:\n  - {name: a, path: a.img}\n  - {name: b, path: b.img, allow: []}\n");
        ExportConfig a = config.exports().get(0);
        assertThat(a).isEqualTo(new ExportConfig("a", CWD.resolve("a.img"), OptionalLong.empty(), false,
                Optional.empty(), new BlockSizes(1, 4096, 64 << 20), FlushClass.LIGHT,
                List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"))));
        assertThat(a.allows(InetAddress.getByName("2001:db8::1"))).isTrue();
        assertThat(config.exports().get(1).allows(InetAddress.getByName("127.0.0.1"))).isFalse();
    }

    @Test
    void parsesListenersInBothForms() {
        ListenConfig listen = parse("listen:\n"
                + "  tcp: ['[::1]:10809', 0.0.0.0:10809]\n"
                + "  unix:\n"
                + "    - /run/a.sock\n"
                + "    - path: /run/b.sock\n"
                + "      mode: 0660\n"
                + "      owner: nbd:disk\n"
                + "    - {path: /run/c.sock, mode: '640', owner: ':disk'}\n").listen();
        assertThat(listen.tcp()).containsExactly(new HostPort("::1", 10809), new HostPort("0.0.0.0", 10809));
        assertThat(listen.unix()).containsExactly(
                new ListenUnix(Path.of("/run/a.sock"), OptionalInt.empty(), Optional.empty(), Optional.empty()),
                new ListenUnix(Path.of("/run/b.sock"), OptionalInt.of(0660), Optional.of("nbd"), Optional.of("disk")),
                new ListenUnix(Path.of("/run/c.sock"), OptionalInt.of(0640), Optional.empty(), Optional.of("disk")));
        assertThat(listen.unix().get(1).permissions()).hasValue(java.util.EnumSet.of(
                PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE));
        assertThat(listen.unix().get(0).permissions()).isEmpty();
        assertThat(parse("listen:\n  tcp: []\n  unix: [x.sock]\n").listen().tcp()).isEmpty();
    }

    @Test
    void parsesLimitsMetricsAndLogging(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("logback.xml"), "<configuration/>");
        Path file = Files.writeString(dir.resolve("bufcached.yaml"), "limits:\n"
                + "  max-connections: 10\n  max-connections-per-export: 2\n"
                + "  max-handshaking: 6\n  max-handshaking-per-address: 3\n"
                + "  handshake-timeout: 500ms\n  idle-timeout: 2m\n  payload-memory: 96MiB\n"
                + "  payload-timeout: 3s\n"
                + "metrics:\n  enabled: false\n  listen: '[::]:9100'\n"
                + "logging:\n  level: debug\n  path: logback.xml\n");
        BufcachedConfig config = ConfigLoader.load(file);
        assertThat(config.limits()).isEqualTo(new LimitsConfig(10, 2, 6, 3, Duration.ofMillis(500),
                Duration.ofMinutes(2), Duration.ofSeconds(60), Duration.ofSeconds(30), OptionalLong.of(96L << 20),
                Duration.ofSeconds(3)));
        assertThat(config.metrics()).isEqualTo(new MetricsConfig(false, new HostPort("::", 9100)));
        assertThat(config.logging()).isEqualTo(new LoggingConfig(LogLevel.DEBUG, Optional.of(dir.resolve("logback.xml"))));
        assertThat(config.source()).hasValue(file);
    }

    @Test
    void logFormatIsTextOrJson() throws Exception {
        assertThat(parse("logging:\n  format: json\n").logging().format()).isEqualTo(LogFormat.JSON);
        assertThat(parse("logging:\n  level: warn\n").logging().format()).isEqualTo(LogFormat.TEXT);
        assertThatThrownBy(() -> parse("logging:\n  format: xml\n"))
                .hasMessageContaining("logging.format: expected one of text, json");
    }

    @Test
    void relativePathsInAFileAreRelativeToItsDirectory(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("bufcached.yaml"),
                "listen:\n  unix: [run/nbd.sock]\nexports:\n  - {name: a, path: ../images/./a.img}\n");
        BufcachedConfig config = ConfigLoader.load(file);
        assertThat(config.exports().get(0).path()).isEqualTo(dir.getParent().resolve("images/a.img"));
        assertThat(config.listen().unix().get(0).path()).isEqualTo(dir.resolve("run/nbd.sock"));
    }
}
