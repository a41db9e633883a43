package org.bufcached.daemon;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.bufcached.config.BitmapConfig;
import org.bufcached.config.BlockSizes;
import org.bufcached.config.Cidr;
import org.bufcached.config.ExportConfig;
import org.bufcached.config.FlushClass;
import org.bufcached.config.Sizes;
import picocli.CommandLine;

/**
 * The command line's {@code --export NAME=FILE[,size=SIZE][,readonly][,bitmap=B]...}:
 * an export with every other setting at its default; each {@code bitmap=} a dirty
 * bitmap of the default granularity.
 */
final class ExportOption implements CommandLine.ITypeConverter<ExportConfig> {
    private static final List<Cidr> ALLOW_ALL = List.of(Cidr.parse("0.0.0.0/0"), Cidr.parse("::/0"));

    @Override
    public ExportConfig convert(String value) {
        int eq = value.indexOf('=');
        if (eq <= 0 || eq == value.length() - 1) {
            throw new CommandLine.TypeConversionException("expected NAME=FILE[,size=SIZE][,readonly][,bitmap=B]..., got '" + value + "'");
        }
        String name = value.substring(0, eq);
        String[] parts = value.substring(eq + 1).split(",");
        Path path = Path.of(parts[0]).toAbsolutePath().normalize();
        OptionalLong size = OptionalLong.empty();
        boolean readonly = false;
        List<BitmapConfig> bitmaps = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i].strip();
            if (part.equals("readonly")) {
                readonly = true;
            } else if (part.startsWith("size=")) {
                try {
                    size = OptionalLong.of(Sizes.parse(part.substring(5)));
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.TypeConversionException("export " + name + ": " + e.getMessage());
                }
                if (size.getAsLong() <= 0) {
                    throw new CommandLine.TypeConversionException("export " + name + ": size must be positive");
                }
            } else if (part.startsWith("bitmap=")) {
                bitmaps.add(bitmap(name, part.substring(7), bitmaps));
            } else {
                throw new CommandLine.TypeConversionException("export " + name + ": unknown setting '" + part
                        + "' (expected size=SIZE, readonly or bitmap=NAME)");
            }
        }
        if (readonly && !bitmaps.isEmpty()) {
            throw new CommandLine.TypeConversionException("export " + name + ": a read-only export never changes, "
                    + "so a dirty bitmap would stay empty: drop bitmap= or readonly");
        }
        return new ExportConfig(name, path, size, readonly, Optional.empty(), BlockSizes.DEFAULTS, FlushClass.LIGHT,
                ALLOW_ALL, Optional.empty(), List.of(), bitmaps);
    }

    private static BitmapConfig bitmap(String export, String bitmapName, List<BitmapConfig> earlier) {
        BitmapConfig.nameProblem(bitmapName).ifPresent(problem -> {
            throw new CommandLine.TypeConversionException("export " + export + ": " + problem);
        });
        if (earlier.stream().anyMatch(b -> b.name().equals(bitmapName))) {
            throw new CommandLine.TypeConversionException("export " + export + ": bitmap=" + bitmapName
                    + " is given twice");
        }
        return BitmapConfig.named(bitmapName);
    }
}
