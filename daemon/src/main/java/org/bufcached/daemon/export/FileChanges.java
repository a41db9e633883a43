package org.bufcached.daemon.export;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.bufcached.daemon.cache.FileChange;
import org.bufcached.daemon.io.FileIo;
import org.bufcached.daemon.io.IoCompletion;
import org.bufcached.daemon.store.Errno;
import org.bufcached.daemon.store.Posix;

/**
 * What TRIM and WRITE_ZEROES do to the file, with the spec's latitude: TRIM is
 * advisory (a file system without holes keeps the data); WRITE_ZEROES punches a
 * hole unless NO_HOLE, else zeroes the range in place, else writes zeroes, and
 * with FAST_ZERO refuses (ENOTSUP, nothing changed) rather than write.
 */
final class FileChanges {
    private static final int PUNCH = Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE;
    private static final int ZERO_RANGE = Posix.FALLOC_FL_ZERO_RANGE | Posix.FALLOC_FL_KEEP_SIZE;
    private static final int ZERO_CHUNK = 1 << 20;
    /** Zeroes to write from where fallocate cannot zero; read-only, shared by all. */
    private static final ByteBuf ZEROES = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(ZERO_CHUNK).writeZero(ZERO_CHUNK));

    private FileChanges() {
    }

    /** TRIM: a hole if the file system can make one, else nothing. */
    static final FileChange TRIM = (io, fd, offset, length, done) ->
            io.fallocate(fd, PUNCH, offset, length, result -> done.complete(result == -Errno.EOPNOTSUPP ? 0 : result));

    /** WRITE_ZEROES with its flags. */
    static FileChange zeroes(boolean noHole, boolean fastZero) {
        return (io, fd, offset, length, done) -> new Zeroing(io, fd, offset, length, noHole, fastZero, done).start();
    }

    /** One WRITE_ZEROES: tries the ways to zero in turn, falling back on EOPNOTSUPP. */
    private static final class Zeroing implements IoCompletion {
        private static final int PUNCHING = 0;
        private static final int ZEROING = 1;
        private static final int WRITING = 2;

        private final FileIo io;
        private final int fd;
        private final long offset;
        private final long length;
        private final boolean noHole;
        private final boolean fastZero;
        private final IoCompletion done;
        private int step;
        private long written;

        Zeroing(FileIo io, int fd, long offset, long length, boolean noHole, boolean fastZero, IoCompletion done) {
            this.io = io;
            this.fd = fd;
            this.offset = offset;
            this.length = length;
            this.noHole = noHole;
            this.fastZero = fastZero;
            this.done = done;
        }

        void start() {
            if (!noHole) {
                step = PUNCHING;
                io.fallocate(fd, PUNCH, offset, length, this);
            } else {
                step = ZEROING;
                io.fallocate(fd, ZERO_RANGE, offset, length, this);
            }
        }

        @Override
        public void complete(long result) {
            if (step == WRITING) {
                if (result < 0) {
                    done.complete(result);
                    return;
                }
                written += result == 0 ? 0 : result;
                if (result == 0) {
                    done.complete(-Errno.EIO);
                    return;
                }
                writeMore();
                return;
            }
            if (result != -Errno.EOPNOTSUPP) {
                done.complete(result);
                return;
            }
            if (step == PUNCHING) {
                step = ZEROING;
                io.fallocate(fd, ZERO_RANGE, offset, length, this);
            } else if (fastZero) {
                done.complete(-Errno.EOPNOTSUPP); // NBD_ENOTSUP: zeroing would not be faster than writing
            } else {
                step = WRITING;
                writeMore();
            }
        }

        private void writeMore() {
            if (written >= length) {
                done.complete(0);
                return;
            }
            int n = (int) Math.min(ZERO_CHUNK, length - written);
            io.write(fd, ZEROES.memoryAddress(), n, offset + written, this);
        }
    }
}
