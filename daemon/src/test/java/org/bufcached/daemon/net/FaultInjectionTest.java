package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;
import org.bufcached.daemon.cache.CacheCallback;
import org.bufcached.daemon.cache.FileStats;
import org.bufcached.daemon.export.BlockStore;
import org.bufcached.daemon.export.Export;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every command's path with a bug in it: the store throws an unchecked exception
 * when called, or answers with one. Each request still gets an answer (NBD_EIO,
 * with a message in a structured reply), and the connection keeps serving.
 */
class FaultInjectionTest extends DaemonTest {

    /** Where the bug is. */
    enum Fault {
        /** The store's method throws before it answers. */
        THROWS,
        /** The store answers with an unchecked exception as the cause. */
        ANSWERS_WITH_IT
    }

    /** A store that fails every command with a bug, or passes it on once {@link #healthy} is set. */
    private static final class FaultyStore implements BlockStore {
        private final BlockStore real;
        private final Fault fault;
        volatile boolean healthy;

        FaultyStore(BlockStore real, Fault fault) {
            this.real = real;
            this.fault = fault;
        }

        private boolean inject(CacheCallback done) {
            if (healthy) {
                return false;
            }
            RuntimeException bug = new IllegalStateException("injected bug");
            if (fault == Fault.THROWS) {
                throw bug;
            }
            done.failed(bug);
            return true;
        }

        private void run(CacheCallback done, Consumer<CacheCallback> command) {
            if (!inject(done)) {
                command.accept(done);
            }
        }

        @Override
        public long size() {
            return real.size();
        }

        @Override
        public FileStats stats() {
            return real.stats();
        }

        @Override
        public String durabilityState() {
            return real.durabilityState();
        }

        @Override
        public void read(long offset, int length, CacheCallback done) {
            run(done, d -> real.read(offset, length, d));
        }

        @Override
        public void write(long offset, ByteBuf data, boolean fua, CacheCallback done) {
            if (healthy) {
                real.write(offset, data, fua, done);
                return;
            }
            data.release(); // owned by the store from the call on, whatever it does next
            inject(done);
        }

        @Override
        public void flush(CacheCallback done) {
            run(done, real::flush);
        }

        @Override
        public void trim(long offset, long length, boolean fua, CacheCallback done) {
            run(done, d -> real.trim(offset, length, fua, d));
        }

        @Override
        public void writeZeroes(long offset, long length, boolean noHole, boolean fastZero, boolean fua,
                                CacheCallback done) {
            run(done, d -> real.writeZeroes(offset, length, noHole, fastZero, fua, d));
        }

        @Override
        public void cache(long offset, long length, CacheCallback done) {
            run(done, d -> real.cache(offset, length, d));
        }

        @Override
        public void blockStatus(long offset, long length, int maxExtents, boolean wide, CacheCallback done) {
            run(done, d -> real.blockStatus(offset, length, maxExtents, wide, d));
        }

        @Override
        public void close() {
            real.close();
        }
    }

    private FaultyStore inject(Fault fault) {
        Export original = nbd.daemon().exports().find(DISK);
        FaultyStore faulty = new FaultyStore(original.store(), fault);
        nbd.daemon().exports().replace(new Export(original.config(), faulty));
        return faulty;
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void everyCommandIsAnsweredAndTheConnectionGoesOn(Fault fault) throws Exception {
        FaultyStore store = inject(fault);
        RawClient c = nbd.openWithAllocation(DISK);
        int[][] commands = {
            {CMD_READ, 0, 4096},
            {CMD_FLUSH, 0, 0},
            {CMD_TRIM, 0, 4096},
            {CMD_WRITE_ZEROES, 0, 4096},
            {CMD_CACHE, 0, 4096},
            {CMD_BLOCK_STATUS, 0, 4096},
        };
        for (int[] cmd : commands) {
            Reply r = c.request(cmd[0], 0, cmd[1], cmd[2]);
            assertThat(r.error()).as("%s answered", org.bufcached.protocol.Nbd.commandName(cmd[0])).isEqualTo(EIO);
            assertThat(r.errorMessage()).as("%s's message", org.bufcached.protocol.Nbd.commandName(cmd[0])).contains("internal error");
        }
        Reply w = c.write(0, pattern(4096, 3));
        assertThat(w.error()).as("WRITE answered").isEqualTo(EIO);
        Reply fua = c.write(0, pattern(4096, 3), CMD_FLAG_FUA);
        assertThat(fua.error()).as("FUA WRITE answered").isEqualTo(EIO);

        // The same connection, the bug gone: served as ever.
        store.healthy = true;
        byte[] data = pattern(8192, 4);
        c.write(65536, data).assertOk();
        assertThat(c.read(65536, data.length).assertOk().data()).isEqualTo(data);
        c.request(CMD_FLUSH, 0, 0, 0).assertOk();
    }

    @Test
    void simpleRepliesCarryTheErrorToo() throws Exception {
        inject(Fault.THROWS);
        RawClient c = nbd.open(DISK);
        assertThat(c.read(0, 512).error()).isEqualTo(EIO);
        assertThat(c.request(CMD_FLUSH, 0, 0, 0).error()).isEqualTo(EIO);
    }
}
