package org.bufcached.config;

import java.util.List;

/**
 * Reads {@code cache}: resolves every tunable to bytes, deriving the unset
 * ones with {@link Bufinit}, and checks that they are consistent with each
 * other. The watermarks may be written as a percentage of {@code size}.
 * Consistency is only checked when every value parsed, so that one bad value
 * is reported once rather than again through each relation it takes part in.
 */
final class CacheSection {
    static final List<String> KEYS = List.of("size", "buffer-size", "maxbufspace", "hibufspace", "lobufspace",
            "hidirtybufspace", "lodirtybufspace", "hirunningspace", "lorunningspace", "flushperqueue",
            "cluster-limit", "window-size", "max-mapped", "sync-interval");

    private static final long PAGE = 4096;
    private static final ScalarType<Long> BUFFER_SIZE = ScalarType.SIZE.where(
            size -> ScalarType.isPowerOfTwo(size) && size >= PAGE, "must be a power of two of at least 4KiB");
    /** A window is read through one ByteBuffer: at most 1 GiB (the JDK's buffers index with an int). */
    private static final ScalarType<Long> WINDOW_SIZE = ScalarType.POSITIVE_SIZE.where(
            size -> size % PAGE == 0 && size <= (1L << 30), "must be a multiple of 4KiB, at most 1GiB");

    private CacheSection() {
    }

    static CacheConfig parse(YamlMap map, Problems problems) {
        int problemsBefore = problems.count();
        long size = map.get("size", ScalarType.POSITIVE_SIZE).orElse(Bufinit.SIZE);
        long bufferSize = map.get("buffer-size", BUFFER_SIZE).orElse(Bufinit.BUFFER_SIZE);
        ScalarType<Long> watermark = ScalarType.sizeOrPercentOf(size);
        long maxbufspace = map.get("maxbufspace", watermark).orElse(size);
        long hibufspace = map.get("hibufspace", watermark).orElse(Bufinit.hibufspace(maxbufspace, bufferSize));
        long lobufspace = map.get("lobufspace", watermark).orElse(Bufinit.lobufspace(hibufspace, bufferSize));
        long hidirtybufspace = map.get("hidirtybufspace", watermark).orElse(Bufinit.hidirtybufspace(hibufspace));
        long lodirtybufspace = map.get("lodirtybufspace", watermark)
                .orElse(Bufinit.lodirtybufspace(hidirtybufspace));
        long hirunningspace = map.get("hirunningspace", watermark)
                .orElse(Bufinit.hirunningspace(hibufspace, hidirtybufspace));
        long lorunningspace = map.get("lorunningspace", watermark).orElse(Bufinit.lorunningspace(hirunningspace));
        CacheConfig cache = new CacheConfig(size, bufferSize, lobufspace, hibufspace, maxbufspace,
                lodirtybufspace, hidirtybufspace, lorunningspace, hirunningspace,
                map.get("flushperqueue", ScalarType.POSITIVE_COUNT).orElse(Bufinit.FLUSHPERQUEUE),
                map.get("cluster-limit", ScalarType.POSITIVE_SIZE).orElse(Bufinit.CLUSTER_LIMIT),
                map.get("window-size", WINDOW_SIZE).orElse(Bufinit.WINDOW_SIZE),
                map.get("max-mapped", ScalarType.POSITIVE_SIZE).orElse(Bufinit.MAX_MAPPED),
                map.get("sync-interval", ScalarType.DURATION).orElse(Bufinit.SYNC_INTERVAL));
        if (problems.count() == problemsBefore) {
            checkConsistency(map, cache);
        }
        return cache;
    }

    private static void checkConsistency(YamlMap map, CacheConfig cache) {
        map.requireAtMost("buffer-size", cache.bufferSize(), "size", cache.size());
        map.requireAtMost("maxbufspace", cache.maxbufspace(), "size", cache.size());
        map.requireAtMost("hibufspace", cache.hibufspace(), "maxbufspace", cache.maxbufspace());
        map.requireAtMost("lobufspace", cache.lobufspace(), "hibufspace", cache.hibufspace());
        map.requireAtMost("hidirtybufspace", cache.hidirtybufspace(), "hibufspace", cache.hibufspace());
        map.requireAtMost("lodirtybufspace", cache.lodirtybufspace(), "hidirtybufspace", cache.hidirtybufspace());
        map.requireAtMost("lorunningspace", cache.lorunningspace(), "hirunningspace", cache.hirunningspace());
        map.requireAtMost("buffer-size", cache.bufferSize(), "cluster-limit", cache.clusterLimit());
        map.requireAtMost("window-size", cache.windowSize(), "max-mapped", cache.maxMapped());
        if (cache.windowSize() % cache.bufferSize() != 0) {
            map.problem(map.has("window-size") ? "window-size" : "buffer-size", "window-size ("
                    + Sizes.format(cache.windowSize()) + ") must be a multiple of buffer-size ("
                    + Sizes.format(cache.bufferSize()) + ")");
        }
    }
}
