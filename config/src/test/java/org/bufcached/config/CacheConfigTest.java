package org.bufcached.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.config.Yamls.parse;

import org.junit.jupiter.api.Test;

/** The cache tunables: derived like bufinit(), settable as sizes or percentages of the cache size. */
class CacheConfigTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void defaultsAreDerivedFromTheCacheSizeLikeBufinit() {
        CacheConfig cache = parse("").cache();
        assertThat(cache.size()).isEqualTo(4096 * MIB);
        assertThat(cache.bufferSize()).isEqualTo(64 * 1024);
        assertThat(cache.maxbufspace()).isEqualTo(4096 * MIB);
        assertThat(cache.hibufspace()).isEqualTo(4096 * MIB - 10 * 64 * 1024);
        assertThat(cache.lobufspace()).isEqualTo(cache.hibufspace() - 64 * MIB);
        assertThat(cache.hidirtybufspace()).isEqualTo(cache.hibufspace() / 4 * 3);
        assertThat(cache.lodirtybufspace()).isEqualTo(cache.hidirtybufspace() / 3 * 2);
        assertThat(cache.hirunningspace()).isEqualTo(cache.hibufspace() / 16);
        assertThat(cache.lorunningspace()).isEqualTo(cache.hirunningspace() * 2 / 3);
        assertThat(cache.flushperqueue()).isEqualTo(64);
        assertThat(cache.clusterLimit()).isEqualTo(MIB);
        assertThat(cache.windowSize()).isEqualTo(1024 * MIB);
        assertThat(cache.maxMapped()).isEqualTo(64L * 1024 * MIB);
        assertThat(cache.syncInterval()).isEqualTo(java.time.Duration.ofSeconds(5));
    }

    @Test
    void ioDefaultsToAutoWithALoopPerCore() {
        IoConfig io = parse("").io();
        assertThat(io.engine()).isEqualTo(IoEngineName.AUTO);
        assertThat(io.eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(io.workers()).isEmpty();
    }

    @Test
    void ioCanBeSet() {
        IoConfig io = parse("io:\n  engine: EPoll\n  event-loops: 3\n  workers: 5\n").io();
        assertThat(io).isEqualTo(new IoConfig(IoEngineName.EPOLL, 3, java.util.OptionalInt.of(5)));
    }

    @Test
    void largeCachesCapTheBufspaceHysteresisAt64MiB() {
        CacheConfig cache = parse("cache:\n  size: 8GiB\n").cache();
        assertThat(cache.hibufspace()).isEqualTo(8192 * MIB - 640 * 1024);
        assertThat(cache.lobufspace()).isEqualTo(cache.hibufspace() - 64 * MIB);
    }

    @Test
    void smallCachesKeepTheFloorsAndBounds() {
        CacheConfig cache = parse("cache:\n  size: 1MiB\n  buffer-size: 64KiB\n").cache();
        assertThat(cache.hibufspace()).isEqualTo(768 * 1024);
        assertThat(cache.lobufspace()).isEqualTo(cache.hibufspace() * 7 / 8);
        assertThat(cache.hidirtybufspace()).isEqualTo(576 * 1024);
        assertThat(cache.hirunningspace()).as("1MiB floor, bounded by hidirtybufspace").isEqualTo(576 * 1024);

        CacheConfig few = parse("cache:\n  size: 256KiB\n").cache();
        assertThat(few.lobufspace()).as("at least one buffer below hibufspace").isEqualTo(few.hibufspace() - 64 * 1024);

        CacheConfig tiny = parse("cache:\n  size: 4KiB\n  buffer-size: 4KiB\n").cache();
        assertThat(tiny.lobufspace()).isZero();
    }

    @Test
    void derivedValuesFollowTheValuesTheyDependOn() {
        CacheConfig cache = parse("cache:\n  hidirtybufspace: 96MiB\n").cache();
        assertThat(cache.lodirtybufspace()).isEqualTo(64 * MIB);
        assertThat(cache.hibufspace()).isEqualTo(4096 * MIB - 640 * 1024);
    }

    @Test
    void watermarksAcceptPercentagesOfTheCacheSize() {
        CacheConfig cache = parse("cache:\n  size: 1GiB\n  maxbufspace: 100%\n  hibufspace: 90%\n"
                + "  lobufspace: 80%\n  hidirtybufspace: 25%\n  lodirtybufspace: 12.5%\n"
                + "  hirunningspace: 32MiB\n  lorunningspace: 1%\n").cache();
        assertThat(cache.maxbufspace()).isEqualTo(1024 * MIB);
        assertThat(cache.hibufspace()).isEqualTo(1024 * MIB * 9 / 10);
        assertThat(cache.lobufspace()).isEqualTo(1024 * MIB * 8 / 10);
        assertThat(cache.hidirtybufspace()).isEqualTo(256 * MIB);
        assertThat(cache.lodirtybufspace()).isEqualTo(128 * MIB);
        assertThat(cache.hirunningspace()).isEqualTo(32 * MIB);
        assertThat(cache.lorunningspace()).isEqualTo(1024 * MIB / 100);
    }

    @Test
    void everyTunableCanBeSet() {
        CacheConfig cache = parse("cache:\n  size: 2G\n  buffer-size: 128K\n  flushperqueue: 16\n"
                + "  cluster-limit: 4M\n  window-size: 256M\n  max-mapped: 1T\n  sync-interval: 2s\n").cache();
        assertThat(cache).extracting(CacheConfig::size, CacheConfig::bufferSize, CacheConfig::flushperqueue,
                CacheConfig::clusterLimit, CacheConfig::windowSize, CacheConfig::maxMapped, CacheConfig::syncInterval)
                .containsExactly(2048 * MIB, 128 * 1024L, 16, 4 * MIB, 256 * MIB, 1024 * 1024 * MIB,
                        java.time.Duration.ofSeconds(2));
    }
}
