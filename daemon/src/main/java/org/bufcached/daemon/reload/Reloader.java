package org.bufcached.daemon.reload;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.bufcached.config.BufcachedConfig;
import org.bufcached.config.ConfigDiff;
import org.bufcached.config.ConfigException;
import org.bufcached.config.ConfigProblem;
import org.bufcached.daemon.systemd.Notifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP: re-reads the configuration and applies what changed. Runs on a thread
 * of its own, never on the signal thread or an event loop, because draining a
 * removed export waits for its requests and its flush. A configuration that does
 * not validate, or a new export that cannot be opened, changes nothing.
 */
public final class Reloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);

    /** How one reload ended. */
    public enum Outcome { UNCHANGED, APPLIED, REJECTED }

    private final ConfigSource source;
    private final ReloadTarget target;
    private final Notifier notifier;
    /** Told how each reload ended: the reload metrics. */
    private final Consumer<Outcome> outcomes;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(new DefaultThreadFactory("bufcached-reload", true));

    public Reloader(ConfigSource source, ReloadTarget target, Notifier notifier, Consumer<Outcome> outcomes) {
        this.source = source;
        this.target = target;
        this.notifier = notifier;
        this.outcomes = outcomes;
    }

    /** Queues a reload; returns at once (safe on the signal thread). Reloads run one at a time, in order. */
    public void request() {
        thread.execute(this::reload);
    }

    /** How one reload ended, and why it was rejected (the lines the log has too). */
    public record Report(Outcome outcome, List<String> problems) {
    }

    /** Reloads now, on the calling thread. */
    public Outcome reload() {
        return reloadReporting().outcome();
    }

    /** Reloads now, on the calling thread, and says why a rejected reload was rejected: for the admin socket. */
    public synchronized Report reloadReporting() {
        LOG.info("reload: reading the configuration");
        notifier.reloading("reloading configuration");
        List<String> problems = new ArrayList<>();
        Outcome outcome = load(problems);
        outcomes.accept(outcome);
        notifier.ready(outcome == Outcome.REJECTED ? "reload failed, configuration unchanged; " + target.status()
                : target.status());
        return new Report(outcome, problems);
    }

    private Outcome load(List<String> problems) {
        BufcachedConfig loaded;
        try {
            loaded = source.load();
        } catch (ConfigException e) {
            for (ConfigProblem problem : e.problems()) {
                LOG.error("reload rejected: {}", problem);
                problems.add(problem.toString());
            }
            return Outcome.REJECTED;
        } catch (IllegalArgumentException e) {
            LOG.error("reload rejected: {}", e.getMessage());
            problems.add(e.getMessage());
            return Outcome.REJECTED;
        }
        ConfigDiff diff = ConfigDiff.between(target.running(), loaded);
        try {
            // Also with an unchanged file: the TLS certificates and keys it names may have changed.
            target.apply(diff, loaded);
        } catch (IOException e) {
            LOG.error("reload rejected, nothing changed: {}", e.getMessage());
            problems.add(e.getMessage());
            return Outcome.REJECTED;
        }
        if (diff.isEmpty()) {
            LOG.info("reload: configuration unchanged");
            return Outcome.UNCHANGED;
        }
        ReloadLog.applied(diff);
        return Outcome.APPLIED;
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
