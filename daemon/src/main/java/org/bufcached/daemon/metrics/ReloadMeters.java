package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.bufcached.daemon.reload.Reloader;

/**
 * When the configuration was last reloaded and how it went, as Prometheus
 * itself reports its own reloads: a success flag, a timestamp and a count by
 * result. Called on the reload thread once per reload.
 */
public final class ReloadMeters implements Consumer<Reloader.Outcome> {
    private final Map<Reloader.Outcome, Counter> byOutcome = new EnumMap<>(Reloader.Outcome.class);
    /** 0 until the first reload. */
    private volatile double lastSeconds;
    private volatile boolean lastSucceeded = true;

    public ReloadMeters(MeterRegistry registry) {
        for (Reloader.Outcome outcome : Reloader.Outcome.values()) {
            byOutcome.put(outcome, Counter.builder("bufcached.config.reloads")
                    .description("Reloads (SIGHUP, systemctl reload) by result: applied, unchanged, rejected")
                    .tag("result", outcome.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
        Gauge.builder("bufcached.config.last.reload.successful", this, m -> m.lastSucceeded ? 1 : 0)
                .description("0 when the last reload was rejected and the previous configuration is still in force")
                .register(registry);
        Gauge.builder("bufcached.config.last.reload.timestamp", this, m -> m.lastSeconds).baseUnit("seconds")
                .description("Unix time of the last reload, applied or not; 0 before the first")
                .register(registry);
    }

    @Override
    public void accept(Reloader.Outcome outcome) {
        byOutcome.get(outcome).increment();
        lastSucceeded = outcome != Reloader.Outcome.REJECTED;
        lastSeconds = System.currentTimeMillis() / 1000.0;
    }
}
