package org.bufcached.daemon.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.bufcached.protocol.server.PayloadMemory;

/** The WRITE payload memory budget, read at scrape time: its limit, what is reserved, who waits. */
public final class PayloadMemoryMeters {
    private PayloadMemoryMeters() {
    }

    public static void bind(MeterRegistry registry, PayloadMemory memory) {
        Gauge.builder("bufcached.payload.memory.limit", memory, PayloadMemory::limit)
                .description("Bytes of WRITE payloads that connections may hold at once (limits.payload-memory)")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder("bufcached.payload.memory.reserved", memory, PayloadMemory::reserved)
                .description("Bytes of WRITE payloads held now, from their header until their reply")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder("bufcached.payload.memory.waiting", memory, PayloadMemory::waiting)
                .description("Connections that stopped reading until payload memory is released")
                .register(registry);
        FunctionCounter.builder("bufcached.payload.memory.waits", memory, PayloadMemory::waits)
                .description("Times a connection had to stop reading for payload memory")
                .register(registry);
    }
}
