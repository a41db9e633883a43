package org.bufcached.daemon.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Every counter and tunable of the buffer cache as a meter, under the seed's
 * names: {@code bufcached_cache_bufspace_bytes}, {@code bufcached_cache_getnewbufcalls_total}...
 */
final class CacheMeters {
    private CacheMeters() {
    }

    static void register(MeterRegistry r, BufCache cache, BufDaemon daemon, BufDaemon daemonHw) {
        BufSpace s = cache.space;
        bytes(r, "bufspace", "Bytes of buffers associated with blocks", s.bufspace);
        bytes(r, "dirtybufspace", "Bytes of delayed-write buffers", s.dirtybufspace);
        bytes(r, "dirtykvaspace", "Mapped bytes of delayed-write buffers", s.dirtykvaspace);
        bytes(r, "dirtybufspacehw", "Bytes of delayed-write buffers of heavy exports", s.dirtybufspacehw);
        bytes(r, "runningbufspace", "Bytes of write-back in flight", s.runningbufspace);
        bytes(r, "runningbufspacehw", "Bytes of write-back in flight for heavy exports", s.runningbufspacehw);
        count(r, "dirtybufcount", "Delayed-write buffers", s.dirtybufcount);
        count(r, "dirtybufcounthw", "Delayed-write buffers of heavy exports", s.dirtybufcounthw);
        count(r, "runningbufcount", "Write-backs in flight", s.runningbufcount);
        Gauge.builder("bufcached.cache.nbuf", s, x -> x.nbuf).description("Buffer headers").register(r);
        Gauge.builder("bufcached.cache.waiting.requests", s, BufSpace::buffersWaiting)
                .description("Requests parked until a buffer frees up").register(r);

        tunable(r, "lobufspace", s, x -> x.lobufspace);
        tunable(r, "hibufspace", s, x -> x.hibufspace);
        tunable(r, "maxbufspace", s, x -> x.maxbufspace);
        tunable(r, "lodirtybufspace", s, x -> x.lodirtybufspace);
        tunable(r, "hidirtybufspace", s, x -> x.hidirtybufspace);
        tunable(r, "lorunningspace", s, x -> x.lorunningspace);
        tunable(r, "hirunningspace", s, x -> x.hirunningspace);
        tunable(r, "cluster.limit", s, x -> x.clusterLimit);
        tunable(r, "buffer.size", s, x -> x.bufferSize);
        Gauge.builder("bufcached.cache.flushperqueue", s, x -> x.flushperqueue)
                .description("Buffers a flusher takes from one queue set per visit").register(r);
        tunable(r, "window.size", cache.kva, KvaMap::windowSize);
        Gauge.builder("bufcached.cache.mapped", cache.kva, KvaMap::mappedBytes).baseUnit("bytes")
                .description("Bytes of the backing files mapped now (the KVA in use)").register(r);
        Gauge.builder("bufcached.cache.windows.retired", cache.kva, KvaMap::retiredCount)
                .description("Windows retired and waiting to be unmapped").register(r);

        // Meters keep only a weak reference to their source: pass the long-lived objects, not lambdas.
        counter(r, "getnewbufcalls", "Calls to getnewbuf", s.getnewbufcalls, AtomicLong::get);
        counter(r, "hits", "Block lookups served from a valid buffer", cache.hits, LongAdder::sum);
        counter(r, "misses", "Block lookups that needed a buffer or a page-in", cache.misses, LongAdder::sum);
        counter(r, "readahead.issued", "Read-aheads started", cache.readAheadIssued, LongAdder::sum);
        counter(r, "readahead.hits", "Reads served by a read-ahead buffer", cache.readAheadHits, LongAdder::sum);
        counter(r, "bkvasync.syncs.done", "Buffer mappings synchronized for a thread", cache.kvabio, Kvabio::syncsDone);
        counter(r, "bkvasync.syncs.avoided", "bkvasync calls with nothing to synchronize", cache.kvabio,
                Kvabio::syncsAvoided);
        counter(r, "windows.unmapped", "Windows unmapped after retirement", cache.kva, KvaMap::unmapCount);
        for (BufDaemon d : new BufDaemon[] {daemon, daemonHw}) {
            String name = d.name();
            FunctionCounter.builder("bufcached.cache.flush.passes", d, x -> x.passes.sum())
                    .description("flushbufqueues passes").tag("daemon", name).register(r);
            FunctionCounter.builder("bufcached.cache.flush.buffers", d, x -> x.buffersWritten.sum())
                    .description("Buffers written back").tag("daemon", name).register(r);
            FunctionCounter.builder("bufcached.cache.flush.clusters", d, x -> x.clusters.sum())
                    .description("Clustered write-backs started").tag("daemon", name).register(r);
            FunctionCounter.builder("bufcached.cache.flush.errors", d, x -> x.writeErrors.sum())
                    .description("Buffers whose write-back failed").tag("daemon", name).register(r);
        }
    }

    private static void bytes(MeterRegistry r, String name, String help, AtomicLong value) {
        Gauge.builder("bufcached.cache." + name, value, AtomicLong::get).baseUnit("bytes").description(help).register(r);
    }

    private static void count(MeterRegistry r, String name, String help, AtomicLong value) {
        Gauge.builder("bufcached.cache." + name, value, AtomicLong::get).description(help).register(r);
    }

    private static <T> void tunable(MeterRegistry r, String name, T source, ToDoubleFunction<T> value) {
        Gauge.builder("bufcached.cache.tunable." + name, source, value).baseUnit("bytes")
                .description("Tunable " + name).register(r);
    }

    private static <T> void counter(MeterRegistry r, String name, String help, T source, ToDoubleFunction<T> value) {
        FunctionCounter.builder("bufcached.cache." + name, source, value).description(help).register(r);
    }
}
