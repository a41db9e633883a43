package org.bufcached.config;

import java.nio.file.Path;
import java.util.List;

/** Reads {@code tls}: mode, certificates or psk-file, verify-peer, provider. */
final class TlsSection {
    static final List<String> KEYS = List.of("mode", "certificates", "verify-peer", "psk-file", "provider");

    private static final ScalarType<TlsMode> MODE = ScalarType.oneOf(TlsMode.class, TlsMode::yamlName);
    private static final ScalarType<TlsProvider> PROVIDER = ScalarType.oneOf(TlsProvider.class, TlsProvider::yamlName);

    private TlsSection() {
    }

    /** Checks how the keys fit together only if each was valid, since a rejected key explains the rest. */
    static TlsConfig parse(YamlMap map, Path base, Problems problems) {
        int problemsBefore = problems.count();
        TlsConfig tls = new TlsConfig(
                map.get("mode", MODE).orElse(TlsMode.OFF),
                map.get("certificates", ScalarType.path(base).where(
                        dir -> TlsConfig.certificatesProblem(dir).isEmpty(), "must be a readable directory")),
                map.get("verify-peer", ScalarType.BOOLEAN).orElse(false),
                map.get("psk-file", ScalarType.path(base)),
                map.get("provider", PROVIDER).orElse(TlsProvider.AUTO));
        tls.pskFile().flatMap(TlsConfig::pskFileProblem).ifPresent(problem -> map.problem("psk-file", problem));
        if (problems.count() == problemsBefore) {
            for (TlsConfig.Problem problem : tls.problems()) {
                map.problem(problem.key(), problem.message());
            }
        }
        return tls;
    }
}
