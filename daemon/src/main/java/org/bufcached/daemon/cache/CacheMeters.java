package org.bufcached.daemon.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Every counter and tunable of the buffer cache as a meter. Series are named by
 * what they mean, with their unit ({@code bufcached_cache_dirty_bytes},
 * {@code bufcached_cache_dirty_high_bytes}); the vfs_bio name that the code uses
 * ({@code dirtybufspace}, {@code hidirtybufspace}) ends each HELP text, so the
 * two can be matched either way.
 */
final class CacheMeters {
    private static final String PREFIX = "bufcached.cache.";

    private CacheMeters() {
    }

    static void register(MeterRegistry r, BufCache cache, BufDaemon daemon, BufDaemon daemonHw) {
        BufSpace s = cache.space;
        bytes(r, "used", "Bytes of buffers associated with blocks", "bufspace", s.bufspace);
        bytes(r, "dirty", "Bytes written by clients and not yet written back (delayed-write buffers)",
                "dirtybufspace", s.dirtybufspace);
        bytes(r, "dirty.mapped", "Mapped bytes of delayed-write buffers; writers wait when this plus write-back "
                + "in flight passes the high mark", "dirtykvaspace", s.dirtykvaspace);
        bytes(r, "dirty.heavy", "Bytes of delayed-write buffers of flush-class heavy exports", "dirtybufspacehw",
                s.dirtybufspacehw);
        bytes(r, "writeback", "Bytes of write-back in flight", "runningbufspace", s.runningbufspace);
        bytes(r, "writeback.heavy", "Bytes of write-back in flight for flush-class heavy exports",
                "runningbufspacehw", s.runningbufspacehw);
        gauge(r, "dirty.buffers", "Delayed-write buffers", "dirtybufcount", s.dirtybufcount, AtomicLong::get);
        gauge(r, "dirty.heavy.buffers", "Delayed-write buffers of flush-class heavy exports", "dirtybufcounthw",
                s.dirtybufcounthw, AtomicLong::get);
        gauge(r, "writeback.writes", "Write-backs in flight", "runningbufcount", s.runningbufcount, AtomicLong::get);
        gauge(r, "buffers", "Buffer headers (cache size / buffer size)", "nbuf", s, x -> x.nbuf);
        gauge(r, "waiting.requests", "Requests parked until a buffer frees up", "getnewbuf waiters", s,
                BufSpace::buffersWaiting);

        limit(r, "space.low", "Buffer space the recycler frees down to", "lobufspace", s, x -> x.lobufspace);
        limit(r, "space.high", "Buffer space above which buffers are recycled", "hibufspace", s, x -> x.hibufspace);
        limit(r, "space.max", "Most buffer space", "maxbufspace", s, x -> x.maxbufspace);
        limit(r, "dirty.low", "Dirty space the flushers write back down to", "lodirtybufspace", s,
                x -> x.lodirtybufspace);
        limit(r, "dirty.high", "Dirty space above which writers wait for the flushers", "hidirtybufspace", s,
                x -> x.hidirtybufspace);
        limit(r, "writeback.low", "Write-back in flight a waiting flusher resumes below", "lorunningspace", s,
                x -> x.lorunningspace);
        limit(r, "writeback.high", "Most write-back in flight", "hirunningspace", s, x -> x.hirunningspace);
        limit(r, "cluster.limit", "Largest clustered write-back", "cluster_awrite limit", s, x -> x.clusterLimit);
        limit(r, "buffer.size", "Bytes per buffer", "buffer size", s, x -> x.bufferSize);
        limit(r, "window.size", "Bytes of a file mapped at once", "KVA window", cache.kva, KvaMap::windowSize);
        gauge(r, "flush.batch.buffers", "Buffers a flusher takes from one queue set per visit", "flushperqueue", s,
                x -> x.flushperqueue);
        Gauge.builder(PREFIX + "mapped", cache.kva, KvaMap::mappedBytes).baseUnit("bytes")
                .description(help("Bytes of the backing files mapped now", "KVA in use")).register(r);
        gauge(r, "windows.awaiting.unmap", "Windows retired and waiting to be unmapped", "retired windows", cache.kva,
                KvaMap::retiredCount);

        // Meters keep only a weak reference to their source: pass the long-lived objects, not lambdas.
        counter(r, "buffer.allocations", "Buffers taken for a new block", "getnewbufcalls", s.getnewbufcalls,
                AtomicLong::get);
        counter(r, "writer.waits", "Writers that waited for the flushers at the dirty high mark (throttled)",
                "bd_wait", s.writerWaits, LongAdder::sum);
        counter(r, "hits", "Block lookups served from a valid buffer", "findblk hit", cache.hits, LongAdder::sum);
        counter(r, "misses", "Block lookups that needed a buffer or a page-in", "getblk miss", cache.misses,
                LongAdder::sum);
        counter(r, "loop.writes", "Writes copied into the page cache on their event loop, not by the I/O workers",
                null, cache.loopWrites, LongAdder::sum);
        counter(r, "loop.write.pauses", "Times an export's writes were sent to the I/O workers for a while: a write"
                + " on an event loop waited 50 ms or more, or a write-back was slow", null, cache.loopWritePauses,
                LongAdder::sum);
        counter(r, "readaheads", "Read-aheads started", "breadn", cache.readAheadIssued, LongAdder::sum);
        counter(r, "readahead.hits", "Reads served by a read-ahead buffer", "B_RAM hit", cache.readAheadHits,
                LongAdder::sum);
        counter(r, "mapping.syncs", "Buffer mappings synchronized for a thread", "bkvasync syncs done", cache.kvabio,
                Kvabio::syncsDone);
        counter(r, "mapping.syncs.avoided", "Mapping synchronizations that had nothing to do",
                "bkvasync syncs avoided", cache.kvabio, Kvabio::syncsAvoided);
        counter(r, "windows.unmapped", "Windows unmapped after retirement", "deferred munmap", cache.kva,
                KvaMap::unmapCount);
        for (BufDaemon d : new BufDaemon[] {daemon, daemonHw}) {
            String name = d.name();
            FunctionCounter.builder(PREFIX + "flush.passes", d, x -> x.passes.sum())
                    .description(help("Passes of a flusher over the dirty queues", "flushbufqueues"))
                    .tag("flusher", name).register(r);
            FunctionCounter.builder(PREFIX + "flushed.buffers", d, x -> x.buffersWritten.sum())
                    .description(help("Buffers written back", "buffers flushed")).tag("flusher", name).register(r);
            FunctionCounter.builder(PREFIX + "flush.writes", d, x -> x.clusters.sum())
                    .description(help("Clustered write-backs started", "cluster_awrite")).tag("flusher", name)
                    .register(r);
            FunctionCounter.builder(PREFIX + "writeback.errors", d, x -> x.writeErrors.sum())
                    .description(help("Buffers whose write-back failed", "B_ERROR")).tag("flusher", name)
                    .register(r);
        }
    }

    /** The HELP text: the meaning, then the vfs_bio name the code uses. */
    private static String help(String meaning, String seedName) {
        return seedName == null ? meaning : meaning + " (vfs_bio: " + seedName + ")";
    }

    private static void bytes(MeterRegistry r, String name, String meaning, String seedName, AtomicLong value) {
        Gauge.builder(PREFIX + name, value, AtomicLong::get).baseUnit("bytes").description(help(meaning, seedName))
                .register(r);
    }

    private static <T> void gauge(MeterRegistry r, String name, String meaning, String seedName, T source,
                                  ToDoubleFunction<T> value) {
        Gauge.builder(PREFIX + name, source, value).description(help(meaning, seedName)).register(r);
    }

    private static <T> void limit(MeterRegistry r, String name, String meaning, String seedName, T source,
                                  ToDoubleFunction<T> value) {
        Gauge.builder(PREFIX + name, source, value).baseUnit("bytes").description(help(meaning, seedName))
                .register(r);
    }

    private static <T> void counter(MeterRegistry r, String name, String meaning, String seedName, T source,
                                    ToDoubleFunction<T> value) {
        FunctionCounter.builder(PREFIX + name, source, value).description(help(meaning, seedName)).register(r);
    }
}
