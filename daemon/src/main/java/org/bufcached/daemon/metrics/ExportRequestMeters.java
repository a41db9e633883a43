package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;

/**
 * The request meters of one export, one {@link CommandMeters} per command type,
 * created on the command's first request so a scrape lists only the commands
 * clients use (DISC, which has no reply, never). Two event loops racing to
 * create one get the same meters from the registry.
 */
final class ExportRequestMeters {
    /** Commands are numbered densely from 0 in the spec; anything past the last known one counts as "unknown". */
    private static final int UNKNOWN = Nbd.NBD_CMD_BLOCK_STATUS + 1;

    private final MeterRegistry registry;
    private final String export;
    private final AtomicReferenceArray<CommandMeters> byCommand = new AtomicReferenceArray<>(UNKNOWN + 1);

    ExportRequestMeters(MeterRegistry registry, String export) {
        this.registry = registry;
        this.export = export;
    }

    void record(int type, long length, NbdError error, long nanos) {
        int index = type >= 0 && type < UNKNOWN ? type : UNKNOWN;
        CommandMeters meters = byCommand.get(index);
        if (meters == null) {
            meters = new CommandMeters(registry, export, index == UNKNOWN ? "unknown" : Nbd.commandName(index));
            byCommand.set(index, meters);
        }
        meters.record(length, error, nanos);
    }

    void remove() {
        for (int i = 0; i < byCommand.length(); i++) {
            CommandMeters meters = byCommand.get(i);
            if (meters != null) {
                meters.remove();
            }
        }
    }
}
