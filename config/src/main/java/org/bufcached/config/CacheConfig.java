package org.bufcached.config;

/**
 * The buffer cache's size and tunables, all resolved to bytes (or counts).
 * The names follow DragonFly's {@code vfs_bio.c} so the cache code reads beside
 * it; {@link Bufinit} documents how the unset ones are derived.
 *
 * @param size            total bytes of buffer space the cache may hold
 * @param bufferSize      bytes per buffer (a power of two, at least 4KiB)
 * @param lobufspace      below this, buffer allocation leaves "flushing" mode
 * @param hibufspace      above this, allocation recycles clean buffers before growing
 * @param maxbufspace     absolute ceiling on buffer space, headroom for the flushers
 * @param lodirtybufspace dirty bytes the flushers drain down to
 * @param hidirtybufspace dirty bytes at which writers are held back
 * @param lorunningspace  write-back in flight below which waiting writers are woken
 * @param hirunningspace  write-back in flight the flushers may start
 * @param flushperqueue   buffers a flusher takes from one per-loop queue per visit
 * @param clusterLimit    largest contiguous write-back a cluster gathers
 * @param windowSize      bytes of a file mapped at once
 * @param maxMapped       total mapped bytes over all windows (the KVA budget)
 * @param syncInterval    how old a file's first unsynced write may grow before the flushers
 *                        fdatasync it (bounds what an I/O error can put in doubt); zero: never
 */
public record CacheConfig(long size, long bufferSize, long lobufspace, long hibufspace, long maxbufspace,
                          long lodirtybufspace, long hidirtybufspace, long lorunningspace, long hirunningspace,
                          int flushperqueue, long clusterLimit, long windowSize, long maxMapped,
                          java.time.Duration syncInterval) {
}
