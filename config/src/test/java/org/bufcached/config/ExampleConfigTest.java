package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.config.Yamls.parse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** bufcached.example.yaml documents every key with its default; these tests keep it honest. */
class ExampleConfigTest {
    private static final Path EXAMPLE = Path.of("bufcached.example.yaml");

    @Test
    void loadsAsTheDefaultsPlusItsExampleExportAndTheSystemSocket() throws Exception {
        BufcachedConfig example = ConfigLoader.load(EXAMPLE);
        BufcachedConfig defaults = parse("");
        assertThat(example.listen().tcp()).isEqualTo(defaults.listen().tcp());
        assertThat(example.listen().unix()).extracting(ListenUnix::path)
                .containsExactly(Path.of("/run/bufcached/nbd.sock"));
        assertThat(example.cache()).isEqualTo(defaults.cache());
        assertThat(example.limits()).isEqualTo(defaults.limits());
        assertThat(example.metrics()).isEqualTo(defaults.metrics());
        assertThat(example.logging()).isEqualTo(defaults.logging());
        assertThat(example.tls()).isEqualTo(defaults.tls()).isEqualTo(TlsConfig.OFF);
        assertThat(example.exports()).containsExactly(new ExportConfig("disk", Path.of("/var/lib/bufcached/disk.img"),
                OptionalLong.of(10L << 30), false, Optional.of("example disk"), BlockSizes.DEFAULTS,
                FlushClass.LIGHT, ExportsSection.DEFAULT_ALLOW));
    }

    @Test
    void documentsEveryKey() throws Exception {
        String text = Files.readString(EXAMPLE);
        Stream.of(ConfigParser.KEYS, ListenSection.KEYS, ListenSection.UNIX_KEYS, ExportsSection.KEYS,
                        CacheSection.KEYS, LimitsSection.KEYS, MetricsSection.KEYS, LoggingSection.KEYS,
                        TlsSection.KEYS)
                .flatMap(List::stream)
                .forEach(key -> assertThat(text).containsPattern("(?m)^[ #-]*" + key + ":"));
    }

    @Test
    void theDerivedWatermarksItShowsAreTheDefaults() throws Exception {
        String uncommented = Files.readString(EXAMPLE)
                .replaceAll("(?m)^(\\s*)# ((?:max|hi|lo|hidirty|lodirty)bufspace:|(?:hi|lo)runningspace:)", "$1$2");
        assertThat(uncommented).isNotEqualTo(Files.readString(EXAMPLE));
        assertThat(ConfigLoader.parse(uncommented, EXAMPLE.toString()).cache()).isEqualTo(parse("").cache());
    }
}
