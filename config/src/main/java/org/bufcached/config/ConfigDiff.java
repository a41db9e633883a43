package org.bufcached.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * What a reload (SIGHUP) would change, sorted by how the daemon can apply it.
 *
 * <ul>
 * <li>Exports added are opened and exports removed are closed, live.</li>
 * <li>An export whose {@code allow} list, {@code tls}, {@code identities} or {@code bitmaps}
 *     is all that changed is updated in place: the change is listed under
 *     {@link #live()} as {@code exports[name].allow} (and so on).</li>
 * <li>An export with any other change (its file, size, block sizes...) is
 *     listed in {@link #exportsChanged()} with every key that changed; the
 *     daemon replaces it, closing its connections.</li>
 * <li>Settings the running daemon can adopt (cache watermarks and tunables
 *     other than the sizes that shape its memory, limits, log level, TLS) are in
 *     {@link #live()}; the others (listen addresses, cache size, buffer size,
 *     window size, I/O workers, the metrics endpoint, a logback.xml path) are in
 *     {@link #restart()} and take effect only after a restart.</li>
 * </ul>
 *
 * Values are shown as they would be written in YAML.
 */
public record ConfigDiff(List<ExportConfig> exportsAdded, List<ExportConfig> exportsRemoved,
                         List<ExportChange> exportsChanged, List<SettingChange> live, List<SettingChange> restart) {

    /** An export that keeps its name but changes in {@code keys} (YAML key names). */
    public record ExportChange(ExportConfig before, ExportConfig after, List<String> keys) {
        public ExportChange {
            keys = List.copyOf(keys);
        }
    }

    /** A setting at {@code key} (dotted YAML path) going from {@code before} to {@code after}. */
    public record SettingChange(String key, String before, String after) {
    }

    private static final List<Setting<BufcachedConfig>> SETTINGS = List.of(
            new Setting<>("listen.tcp", false, config -> config.listen().tcp()),
            new Setting<>("listen.unix", false, config -> config.listen().unix()),
            cache("size", false, CacheConfig::size),
            cache("buffer-size", false, CacheConfig::bufferSize),
            cache("maxbufspace", true, CacheConfig::maxbufspace),
            cache("hibufspace", true, CacheConfig::hibufspace),
            cache("lobufspace", true, CacheConfig::lobufspace),
            cache("hidirtybufspace", true, CacheConfig::hidirtybufspace),
            cache("lodirtybufspace", true, CacheConfig::lodirtybufspace),
            cache("hirunningspace", true, CacheConfig::hirunningspace),
            cache("lorunningspace", true, CacheConfig::lorunningspace),
            new Setting<>("cache.flushperqueue", true, config -> config.cache().flushperqueue()),
            cache("cluster-limit", true, CacheConfig::clusterLimit),
            cache("window-size", false, CacheConfig::windowSize),
            cache("max-mapped", true, CacheConfig::maxMapped),
            new Setting<>("cache.sync-interval", true, config -> Durations.format(config.cache().syncInterval())),
            new Setting<>("io.engine", false, config -> config.io().engine().yamlName()),
            new Setting<>("io.event-loops", false, config -> config.io().eventLoops()),
            new Setting<>("io.workers", false, config -> config.io().workers()),
            new Setting<>("limits.max-connections", true, config -> config.limits().maxConnections()),
            new Setting<>("limits.max-connections-per-export", true,
                    config -> config.limits().maxConnectionsPerExport()),
            new Setting<>("limits.max-handshaking", true, config -> config.limits().maxHandshaking()),
            new Setting<>("limits.max-handshaking-per-address", true,
                    config -> config.limits().maxHandshakingPerAddress()),
            new Setting<>("limits.handshake-timeout", true,
                    config -> Durations.format(config.limits().handshakeTimeout())),
            new Setting<>("limits.idle-timeout", true, config -> Durations.format(config.limits().idleTimeout())),
            new Setting<>("limits.stuck-request", true, config -> Durations.format(config.limits().stuckRequest())),
            new Setting<>("limits.shutdown-timeout", true,
                    config -> Durations.format(config.limits().shutdownTimeout())),
            new Setting<>("limits.payload-memory", true, config -> config.limits().payloadMemory().isPresent()
                    ? Sizes.format(config.limits().payloadMemory().getAsLong()) : ""),
            new Setting<>("limits.payload-timeout", true,
                    config -> Durations.format(config.limits().payloadTimeout())),
            new Setting<>("metrics.enabled", false, config -> config.metrics().enabled()),
            new Setting<>("metrics.listen", false, config -> config.metrics().listen()),
            new Setting<>("logging.level", true, config -> config.logging().level()),
            new Setting<>("logging.format", false, config -> config.logging().format().yamlName()),
            new Setting<>("tls.mode", true, config -> config.tls().mode().yamlName()),
            new Setting<>("tls.certificates", true, config -> config.tls().certificates().map(Object::toString).orElse("")),
            new Setting<>("tls.verify-peer", true, config -> config.tls().verifyPeer()),
            new Setting<>("tls.psk-file", true, config -> config.tls().pskFile().map(Object::toString).orElse("")),
            new Setting<>("tls.provider", true, config -> config.tls().provider().yamlName()),
            new Setting<>("admin", false, config -> config.admin().socket().map(Object::toString).orElse("")),
            new Setting<>("logging.path", false, config -> config.logging().path().map(Object::toString).orElse("")));

    private static final List<Setting<ExportConfig>> EXPORT_SETTINGS = List.of(
            new Setting<>("path", false, ExportConfig::path),
            new Setting<>("size", false, export -> export.size().isPresent()
                    ? Sizes.format(export.size().getAsLong()) : ""),
            new Setting<>("readonly", false, ExportConfig::readonly),
            new Setting<>("description", false, export -> export.description().orElse("")),
            new Setting<>("min-block-size", false, export -> export.blockSizes().minimum()),
            new Setting<>("preferred-block-size", false, export -> export.blockSizes().preferred()),
            new Setting<>("max-payload", false, export -> export.blockSizes().maxPayload()),
            new Setting<>("flush-class", false, export -> export.flushClass().yamlName()),
            new Setting<>("allow", true, ExportConfig::allow),
            new Setting<>("tls", true, export -> export.tls().map(TlsMode::yamlName).orElse("")),
            new Setting<>("identities", true, ExportConfig::identities),
            new Setting<>("bitmaps", true, export -> export.bitmaps().stream()
                    .map(bitmap -> bitmap.name() + ":" + Sizes.format(bitmap.granularity())).toList()));

    public ConfigDiff {
        exportsAdded = List.copyOf(exportsAdded);
        exportsRemoved = List.copyOf(exportsRemoved);
        exportsChanged = List.copyOf(exportsChanged);
        live = List.copyOf(live);
        restart = List.copyOf(restart);
    }

    /** Compares the running configuration with a newly loaded one. */
    public static ConfigDiff between(BufcachedConfig running, BufcachedConfig loaded) {
        List<SettingChange> live = new ArrayList<>();
        List<SettingChange> restart = new ArrayList<>();
        for (Setting<BufcachedConfig> setting : SETTINGS) {
            if (setting.differs(running, loaded)) {
                (setting.live ? live : restart).add(setting.change("", running, loaded));
            }
        }
        Map<String, ExportConfig> before = byName(running.exports());
        Map<String, ExportConfig> after = byName(loaded.exports());
        List<ExportChange> changed = new ArrayList<>();
        for (ExportConfig old : running.exports()) {
            ExportConfig current = after.get(old.name());
            if (current == null) {
                continue;
            }
            List<Setting<ExportConfig>> differing = EXPORT_SETTINGS.stream()
                    .filter(setting -> setting.differs(old, current))
                    .collect(Collectors.toList());
            if (differing.stream().allMatch(setting -> setting.live)) {
                differing.forEach(setting -> live.add(setting.change("exports[" + old.name() + "].", old, current)));
            } else {
                changed.add(new ExportChange(old, current,
                        differing.stream().map(setting -> setting.key).collect(Collectors.toList())));
            }
        }
        return new ConfigDiff(
                loaded.exports().stream().filter(export -> !before.containsKey(export.name())).collect(Collectors.toList()),
                running.exports().stream().filter(export -> !after.containsKey(export.name())).collect(Collectors.toList()),
                changed, live, restart);
    }

    /** Whether the two configurations are the same in everything the daemon uses. */
    public boolean isEmpty() {
        return exportsAdded.isEmpty() && exportsRemoved.isEmpty() && exportsChanged.isEmpty() && live.isEmpty()
                && restart.isEmpty();
    }

    /** Whether some change only takes effect after a restart. */
    public boolean needsRestart() {
        return !restart.isEmpty();
    }

    private static Map<String, ExportConfig> byName(List<ExportConfig> exports) {
        return exports.stream().collect(Collectors.toMap(ExportConfig::name, Function.identity()));
    }

    private static Setting<BufcachedConfig> cache(String key, boolean live, ToLongFunction<CacheConfig> bytes) {
        return new Setting<>("cache." + key, live, config -> Sizes.format(bytes.applyAsLong(config.cache())));
    }

    /** One comparable setting: its YAML key, whether it applies live, and how to read it as YAML would show it. */
    private static final class Setting<C> {
        private final String key;
        private final boolean live;
        private final Function<C, Object> value;

        Setting(String key, boolean live, Function<C, Object> value) {
            this.key = key;
            this.live = live;
            this.value = value;
        }

        boolean differs(C before, C after) {
            return !Objects.equals(value.apply(before), value.apply(after));
        }

        SettingChange change(String keyPrefix, C before, C after) {
            return new SettingChange(keyPrefix + key, String.valueOf(value.apply(before)),
                    String.valueOf(value.apply(after)));
        }
    }
}
