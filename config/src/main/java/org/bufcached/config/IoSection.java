package org.bufcached.config;

import java.util.List;
import java.util.OptionalInt;

/** Reads {@code io}: the I/O engine, the event loops, the blocking pool. */
final class IoSection {
    static final List<String> KEYS = List.of("engine", "event-loops", "workers");

    private static final ScalarType<IoEngineName> ENGINE = ScalarType.oneOf(IoEngineName.class,
            IoEngineName::yamlName);

    private IoSection() {
    }

    static IoConfig parse(YamlMap map) {
        return new IoConfig(
                map.get("engine", ENGINE).orElse(IoEngineName.AUTO),
                map.get("event-loops", ScalarType.POSITIVE_COUNT).orElseGet(Bufinit::eventLoops),
                map.get("workers", ScalarType.POSITIVE_COUNT).map(OptionalInt::of).orElse(OptionalInt.empty()));
    }

    /** The defaults, as an absent section reads. */
    static IoConfig defaults() {
        return new IoConfig(IoEngineName.AUTO, Bufinit.eventLoops(), OptionalInt.empty());
    }
}
