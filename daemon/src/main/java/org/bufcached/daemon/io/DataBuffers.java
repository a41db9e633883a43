package org.bufcached.daemon.io;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The allocator of every buffer on the data path: socket reads, WRITE payloads,
 * READ misses, replies. Netty 4.2's default (adaptive) allocator pools buffers up
 * to a few hundred KiB only; a 1 MiB payload then costs a fresh
 * {@code ByteBuffer.allocateDirect} per request: an mmap, zeroing the whole
 * buffer, a Cleaner and a munmap, on the event loop (JFR and perf showed it as
 * the loop's largest cost under 1 MiB writes). The pooled allocator serves
 * everything up to its chunk size (4 MiB) from per-loop caches and arenas, so
 * requests up to that size allocate nothing in steady state; larger ones are
 * rare and cost one allocation each.
 */
public final class DataBuffers {
    public static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    private DataBuffers() {
    }
}
