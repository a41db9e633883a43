package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.cache.CacheFixture.BS;
import static org.bufcached.daemon.cache.CacheFixture.MIB;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.bufcached.daemon.io.BlockingCall;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bug in the I/O engine's path: every submission of a file operation throws an
 * unchecked exception. Each cache operation still answers its caller (with that
 * exception), lets go of the buffers it held, and the cache works again once the
 * engine does.
 */
class CacheFaultTest {
    @TempDir
    Path dir;

    private volatile boolean broken;
    private CacheFixture fx;
    private CachedFile f;

    /** The real engine, unless {@link #broken}: then every submission throws. */
    private final class Faulty implements FileIo {
        private final FileIo real;

        Faulty(FileIo real) {
            this.real = real;
        }

        private void check() {
            if (broken) {
                throw new IllegalStateException("injected engine bug");
            }
        }

        @Override
        public EventExecutor loop() {
            return real.loop();
        }

        @Override
        public void write(int fd, long address, int length, long offset, IoCompletion done) {
            check();
            real.write(fd, address, length, offset, done);
        }

        @Override
        public void read(int fd, long address, int length, long offset, int rwFlags, IoCompletion done) {
            check();
            real.read(fd, address, length, offset, rwFlags, done);
        }

        @Override
        public void fdatasync(int fd, IoCompletion done) {
            check();
            real.fdatasync(fd, done);
        }

        @Override
        public void syncFileRange(int fd, long offset, int length, int flags, IoCompletion done) {
            check();
            real.syncFileRange(fd, offset, length, flags, done);
        }

        @Override
        public void fallocate(int fd, int mode, long offset, long length, IoCompletion done) {
            check();
            real.fallocate(fd, mode, offset, length, done);
        }

        @Override
        public void fadvise(int fd, long offset, int length, int advice, IoCompletion done) {
            check();
            real.fadvise(fd, offset, length, advice, done);
        }

        @Override
        public void madvise(long address, int length, int advice, IoCompletion done) {
            check();
            real.madvise(address, length, advice, done);
        }

        @Override
        public void offload(BlockingCall call, IoCompletion done) {
            check();
            real.offload(call, done);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        fx = new CacheFixture(dir, CacheFixture.cfg(), 1, Faulty::new);
        f = fx.file("disk", 2 * MIB, false);
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    /** Runs one cache operation; returns what its callback got: null for success, else the cause. */
    private Throwable call(Consumer<CacheCallback> op) throws Exception {
        CompletableFuture<Throwable> answer = new CompletableFuture<>();
        op.accept(CacheFixture.into(answer));
        return answer.get(10, TimeUnit.SECONDS);
    }

    private static ByteBuf payload() {
        return ByteBufAllocator.DEFAULT.directBuffer((int) BS).writeZero((int) BS);
    }

    @Test
    void everyOperationAnswersWhenTheEngineThrows() throws Exception {
        BufCache cache = fx.cache;
        broken = true;
        assertThat(call(cb -> cache.read(f, 0, (int) BS, cb))).as("read miss").hasMessageContaining("injected");
        assertThat(call(cb -> cache.write(f, 0, payload(), false, cb))).as("write").hasMessageContaining("injected");
        assertThat(call(cb -> cache.write(f, 0, payload(), true, cb))).as("write with sync")
                .hasMessageContaining("injected");
        assertThat(call(cb -> cache.sync(f, cb))).as("sync").isNotNull();
        assertThat(call(cb -> cache.change(f, 0, BS, (io, fd, off, len, done) -> io.fallocate(fd, 0, off, len, done),
                false, cb))).as("change").hasMessageContaining("injected");
        assertThat(call(cb -> cache.prefetch(f, 0, BS, cb))).as("prefetch").hasMessageContaining("injected");
        for (long blk = 0; blk < 2; blk++) {
            Buf bp = fx.lookup(f, blk);
            if (bp != null) {
                assertThat(bp.lock.isLocked()).as("block %d unlocked", blk).isFalse();
                assertThat(bp.refs()).as("block %d not held", blk).isZero();
            }
        }

        broken = false;
        assertThat(call(cb -> cache.write(f, 0, payload(), false, cb))).as("write once healthy").isNull();
        assertThat(call(cb -> cache.read(f, 0, (int) BS, cb))).as("read once healthy").isNull();
    }

    @Test
    void writesAndChangesTheEngineRefusedLeaveNothingAtTheWorkers() throws Exception {
        BufCache cache = fx.cache;
        assertThat(call(cb -> cache.write(f, 0, payload(), false, cb))).as("maps the window").isNull();
        broken = true;
        ByteBuf unaligned = ByteBufAllocator.DEFAULT.directBuffer(100).writeZero(100);
        assertThat(call(cb -> cache.write(f, 10, unaligned, false, cb))).as("a write for the workers")
                .hasMessageContaining("injected");
        assertThat(call(cb -> cache.change(f, 0, BS, (io, fd, off, len, done) -> io.fallocate(fd, 0, off, len, done),
                false, cb))).as("change").hasMessageContaining("injected");

        assertThat(f.loopWrites.atWorkers()).isZero();
    }
}
