package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.config.Yamls.parse;

import org.bufcached.config.ConfigDiff.SettingChange;
import org.junit.jupiter.api.Test;

class ConfigDiffTest {
    private static final String EXPORTS = "exports:\n"
            + "  - {name: a, path: /srv/a.img}\n"
            + "  - {name: b, path: /srv/b.img, allow: [10.0.0.0/8]}\n"
            + "  - {name: c, path: /srv/c.img}\n";

    @Test
    void identicalConfigurationsDoNotDiffer() {
        ConfigDiff diff = ConfigDiff.between(parse(EXPORTS), parse(EXPORTS));
        assertThat(diff.isEmpty()).isTrue();
        assertThat(diff.needsRestart()).isFalse();
    }

    @Test
    void sortsExportsIntoAddedRemovedAndChanged() {
        BufcachedConfig running = parse(EXPORTS);
        BufcachedConfig loaded = parse("exports:\n"
                + "  - {name: a, path: /srv/a2.img, flush-class: heavy, allow: [10.0.0.0/8]}\n"
                + "  - {name: b, path: /srv/b.img, allow: [10.0.0.0/8, 192.168.0.0/16]}\n"
                + "  - {name: d, path: /srv/d.img}\n");
        ConfigDiff diff = ConfigDiff.between(running, loaded);
        assertThat(diff.exportsAdded()).extracting(ExportConfig::name).containsExactly("d");
        assertThat(diff.exportsRemoved()).extracting(ExportConfig::name).containsExactly("c");
        assertThat(diff.exportsChanged()).singleElement().satisfies(change -> {
            assertThat(change.before().name()).isEqualTo("a");
            assertThat(change.keys()).containsExactly("path", "flush-class", "allow");
        });
        assertThat(diff.live()).containsExactly(new SettingChange("exports[b].allow",
                "[10.0.0.0/8]", "[10.0.0.0/8, 192.168.0.0/16]"));
        assertThat(diff.restart()).isEmpty();
    }

    @Test
    void watermarksTunablesAndLimitsApplyLive() {
        ConfigDiff diff = ConfigDiff.between(parse(""), parse("cache:\n  hidirtybufspace: 1536MiB\n"
                + "  flushperqueue: 8\n  max-mapped: 32G\nlimits:\n  idle-timeout: 5m\n  max-handshaking: 4\n"
                + "  max-handshaking-per-address: 2\n  payload-memory: 256MiB\n  payload-timeout: 1m\n"
                + "logging:\n  level: DEBUG\n"));
        assertThat(diff.live()).containsExactly(
                new SettingChange("cache.hidirtybufspace", "3145248KiB", "1536MiB"),
                new SettingChange("cache.lodirtybufspace", "2096832KiB", "1GiB"),
                new SettingChange("cache.flushperqueue", "64", "8"),
                new SettingChange("cache.max-mapped", "64GiB", "32GiB"),
                new SettingChange("limits.max-handshaking", "32", "4"),
                new SettingChange("limits.max-handshaking-per-address", "8", "2"),
                new SettingChange("limits.idle-timeout", "0s", "5m"),
                new SettingChange("limits.payload-memory", "", "256MiB"),
                new SettingChange("limits.payload-timeout", "10s", "1m"),
                new SettingChange("logging.level", "INFO", "DEBUG"));
        assertThat(diff.needsRestart()).isFalse();
    }

    @Test
    void listenersCacheGeometryAndMetricsNeedARestart() {
        ConfigDiff diff = ConfigDiff.between(parse(""), parse("listen:\n  tcp: [0.0.0.0:10809]\n"
                + "cache:\n  buffer-size: 128K\n  window-size: 512M\nio:\n  workers: 99\n"
                + "metrics:\n  listen: 0.0.0.0:10810\n"));
        assertThat(diff.restart()).extracting(SettingChange::key).containsExactly(
                "listen.tcp", "cache.buffer-size", "cache.window-size", "io.workers", "metrics.listen");
        assertThat(diff.live()).extracting(SettingChange::key)
                .as("the bufspace hysteresis is derived from the buffer size")
                .containsExactly("cache.hibufspace", "cache.lobufspace", "cache.hidirtybufspace",
                        "cache.lodirtybufspace", "cache.hirunningspace", "cache.lorunningspace");
        assertThat(diff.needsRestart()).isTrue();
        assertThat(ConfigDiff.between(parse(""), parse("cache:\n  size: 8G\n")).restart())
                .extracting(SettingChange::key).containsExactly("cache.size");
    }
}
