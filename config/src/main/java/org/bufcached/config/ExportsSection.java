package org.bufcached.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads {@code exports}, a list of maps, and checks what only the whole list
 * can tell: export names are unique and no two exports share a backing file
 * (compared as normalized absolute paths, since two writers caching the same
 * file independently would corrupt it).
 */
final class ExportsSection {
    static final List<String> KEYS = List.of("name", "path", "size", "readonly", "description", "min-block-size",
            "preferred-block-size", "max-payload", "flush-class", "allow", "tls", "identities", "bitmaps");
    static final List<String> BITMAP_KEYS = List.of("name", "granularity");
    static final List<Cidr> DEFAULT_ALLOW = List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"));

    private static final ScalarType<Long> MIN_BLOCK_SIZE = powerOfTwo(1, 64 * 1024);
    private static final ScalarType<Long> PREFERRED_BLOCK_SIZE = powerOfTwo(512, 1 << 30);
    private static final ScalarType<Long> MAX_PAYLOAD = powerOfTwo(512, 1 << 30);
    private static final ScalarType<FlushClass> FLUSH_CLASS = ScalarType.oneOf(FlushClass.class, FlushClass::yamlName);
    private static final ScalarType<TlsMode> EXPORT_TLS = ScalarType.oneOf(TlsMode.class, TlsMode::yamlName).where(
            mode -> mode != TlsMode.OFF, "must be on (plaintext clients too) or require (TLS clients only)");
    private static final ScalarType<String> BITMAP_NAME = new ScalarType<>("a bitmap name", text -> {
        BitmapConfig.nameProblem(text).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        return text;
    });
    private static final ScalarType<Long> GRANULARITY = powerOfTwo(BitmapConfig.MIN_GRANULARITY,
            BitmapConfig.MAX_GRANULARITY);
    private static final ScalarType<String> IDENTITY = new ScalarType<>("a certificate name or PSK username", text -> {
        ExportConfig.identityProblem(text).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
        return text;
    });

    private ExportsSection() {
    }

    /** {@code tls} is the daemon's TLS section, which an export's TLS settings must fit. */
    static List<ExportConfig> parse(List<YamlValue> items, Path base, TlsConfig tls) {
        FirstSeen<String> names = new FirstSeen<>();
        FirstSeen<Path> files = new FirstSeen<>();
        List<ExportConfig> exports = new ArrayList<>();
        for (YamlValue item : items) {
            item.asMap(KEYS).ifPresent(map -> export(map, base).ifPresent(export -> {
                export.tlsProblems(tls).forEach(problem -> map.problem(problem.key(), problem.message()));
                names.check(export.name(), map.get("name").orElseThrow(),
                        "export name '" + export.name() + "' is already used");
                files.check(export.path(), map.get("path").orElseThrow(),
                        "file " + export.path() + " is already exported");
                exports.add(export);
            }));
        }
        return exports;
    }

    private static Optional<ExportConfig> export(YamlMap map, Path base) {
        Optional<String> name = map.require("name", ScalarType.NBD_STRING.where(text -> !text.isEmpty(),
                "must not be empty"));
        Optional<Path> path = map.require("path", ScalarType.path(base));
        BlockSizes blockSizes = blockSizes(map);
        OptionalLong size = map.get("size", ScalarType.POSITIVE_SIZE)
                .map(OptionalLong::of).orElse(OptionalLong.empty());
        if (size.isPresent() && size.getAsLong() % blockSizes.minimum() != 0) {
            map.problem("size", "size " + Sizes.format(size.getAsLong()) + " is not a multiple of min-block-size "
                    + blockSizes.minimum());
        }
        boolean readonly = map.get("readonly", ScalarType.BOOLEAN).orElse(false);
        Optional<String> description = map.get("description", ScalarType.NBD_STRING);
        FlushClass flushClass = map.get("flush-class", FLUSH_CLASS).orElse(FlushClass.LIGHT);
        List<Cidr> allow = map.get("allow").map(value -> value.asListOf(ScalarType.CIDR)).orElse(DEFAULT_ALLOW);
        Optional<TlsMode> tls = map.get("tls", EXPORT_TLS);
        List<String> identities = map.get("identities").map(value -> value.asListOf(IDENTITY)).orElse(List.of());
        List<BitmapConfig> bitmaps = bitmaps(map.list("bitmaps"));
        if (readonly && !bitmaps.isEmpty()) {
            map.problem("bitmaps", "a read-only export never changes, so a dirty bitmap would stay empty: "
                    + "remove bitmaps or readonly");
        }
        if (name.isEmpty() || path.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ExportConfig(name.get(), path.get(), size, readonly, description, blockSizes,
                flushClass, allow, tls, identities, bitmaps));
    }

    /** {@code bitmaps}: each a name, or a map with {@code name} and {@code granularity}; names unique. */
    private static List<BitmapConfig> bitmaps(List<YamlValue> items) {
        FirstSeen<String> names = new FirstSeen<>();
        List<BitmapConfig> bitmaps = new ArrayList<>();
        for (YamlValue item : items) {
            Optional<BitmapConfig> bitmap;
            if (item.isMap()) {
                bitmap = item.asMap(BITMAP_KEYS).flatMap(map -> {
                    Optional<String> name = map.require("name", BITMAP_NAME);
                    long granularity = map.get("granularity", GRANULARITY).orElse(BitmapConfig.DEFAULT_GRANULARITY);
                    return name.map(n -> new BitmapConfig(n, granularity));
                });
            } else {
                bitmap = item.as(BITMAP_NAME).map(BitmapConfig::named);
            }
            bitmap.ifPresent(b -> {
                names.check(b.name(), item, "bitmap name '" + b.name() + "' is already used in this export");
                bitmaps.add(b);
            });
        }
        return bitmaps;
    }

    private static BlockSizes blockSizes(YamlMap map) {
        long minimum = map.get("min-block-size", MIN_BLOCK_SIZE).orElse((long) BlockSizes.DEFAULTS.minimum());
        long preferred = map.get("preferred-block-size", PREFERRED_BLOCK_SIZE)
                .orElse((long) BlockSizes.DEFAULTS.preferred());
        long maxPayload = map.get("max-payload", MAX_PAYLOAD).orElse((long) BlockSizes.DEFAULTS.maxPayload());
        map.requireAtMost("min-block-size", minimum, "preferred-block-size", preferred);
        map.requireAtMost("preferred-block-size", preferred, "max-payload", maxPayload);
        return new BlockSizes((int) minimum, (int) preferred, (int) maxPayload);
    }

    private static ScalarType<Long> powerOfTwo(long minimum, long maximum) {
        return ScalarType.SIZE.where(size -> ScalarType.isPowerOfTwo(size) && size >= minimum && size <= maximum,
                "must be a power of two from " + Sizes.format(minimum) + " to " + Sizes.format(maximum));
    }
}
