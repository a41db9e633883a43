package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;

/**
 * The request meters of one export. Every command a client can send and every
 * NBD error exist from the export's registration, at zero, so that {@code rate()}
 * and alerts see a series before the first error. Only requests of an unknown
 * command type (a broken client) get their meters on first use; two event loops
 * racing to create them get the same meters from the registry.
 */
final class ExportRequestMeters {
    /** Commands are numbered densely from 0 in the spec; anything past the last known one counts as "unknown". */
    private static final int UNKNOWN = Nbd.NBD_CMD_BLOCK_STATUS + 1;

    private final MeterRegistry registry;
    private final String export;
    private final AtomicReferenceArray<CommandMeters> byCommand = new AtomicReferenceArray<>(UNKNOWN + 1);
    /** By {@link NbdError} ordinal. */
    private final Counter[] errors = new Counter[NbdError.values().length];

    ExportRequestMeters(MeterRegistry registry, String export) {
        this.registry = registry;
        this.export = export;
        for (int type = 0; type < UNKNOWN; type++) {
            if (type != Nbd.NBD_CMD_DISC) { // DISC has no reply, so it is never answered
                byCommand.set(type, new CommandMeters(registry, export, Nbd.commandName(type)));
            }
        }
        for (NbdError error : NbdError.values()) {
            errors[error.ordinal()] = Counter.builder("bufcached.request.errors")
                    .description("NBD requests answered with an error, by NBD error (EIO, ENOSPC, EPERM...)")
                    .tags("export", export, "error", error.name())
                    .register(registry);
        }
    }

    void record(int type, long length, NbdError error, long nanos) {
        int index = type >= 0 && type < UNKNOWN ? type : UNKNOWN;
        CommandMeters meters = byCommand.get(index);
        if (meters == null) {
            meters = new CommandMeters(registry, export, index == UNKNOWN ? "unknown" : Nbd.commandName(index));
            byCommand.set(index, meters);
        }
        meters.record(length, error != null, nanos);
        if (error != null) {
            errors[error.ordinal()].increment();
        }
    }

    void remove() {
        for (int i = 0; i < byCommand.length(); i++) {
            CommandMeters meters = byCommand.get(i);
            if (meters != null) {
                meters.remove();
            }
        }
        for (Counter counter : errors) {
            registry.remove(counter);
        }
    }
}
