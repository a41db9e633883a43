package org.bufcached.config;

import java.util.OptionalInt;

/**
 * The event loops and how they do file I/O.
 *
 * @param engine     the I/O engine
 * @param eventLoops event loops serving connections (one per core by default)
 * @param workers    threads of the blocking pool (every file operation under the
 *                   fallback engine; under io_uring only mmap and lseek); empty
 *                   lets the daemon size it for the engine it runs
 */
public record IoConfig(IoEngineName engine, int eventLoops, OptionalInt workers) {
}
