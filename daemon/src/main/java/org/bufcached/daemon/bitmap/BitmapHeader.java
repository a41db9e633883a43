package org.bufcached.daemon.bitmap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The first page of a bitmap file, little-endian:
 *
 * <pre>
 *  0  8 bytes  magic "BUFCDBM\0"
 *  8  u32      format version (1)
 * 12  u32      header size: the bits start here (4096)
 * 16  u64      granularity in bytes
 * 24  u64      export size in bytes the bits cover
 * 32  u32      state: 0 closed cleanly, 1 in use by a daemon
 * 36  u32      reserved (0)
 * 40  16 bytes boot id of the kernel the daemon that set "in use" ran on
 * 56  u64      creation time, milliseconds since the epoch
 * 64  u64      time of the last clear (or the creation), milliseconds since the epoch
 * </pre>
 *
 * The state and boot id tell a crash of the daemon (same boot: the page cache
 * kept every bit) from a crash of the host (another boot: bits of writes no FLUSH
 * covered may be lost, so the daemon marks everything dirty).
 */
record BitmapHeader(long granularity, long exportSize, boolean inUse, UUID bootId, long createdMillis,
                    long clearedMillis) {
    static final int SIZE = 4096;
    static final int VERSION = 1;
    private static final byte[] MAGIC = "BUFCDBM\0".getBytes(StandardCharsets.US_ASCII);
    private static final int STATE = 32;
    private static final int BOOT_ID = 40;
    private static final int CLEARED = 64;

    /** Reads and checks a header; {@code file} names the file in the messages. */
    static BitmapHeader read(ByteBuffer page, String file) throws IOException {
        ByteBuffer b = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IOException(file + " is not a bufcached bitmap file (bad magic)");
        }
        int version = b.getInt(8);
        if (version != VERSION) {
            throw new IOException(file + " has bitmap format version " + version + "; this bufcached reads version "
                    + VERSION);
        }
        int headerSize = b.getInt(12);
        long granularity = b.getLong(16);
        if (headerSize != SIZE || granularity <= 0 || Long.bitCount(granularity) != 1) {
            throw new IOException(file + " has a damaged header (header size " + headerSize + ", granularity "
                    + granularity + ")");
        }
        return new BitmapHeader(granularity, b.getLong(24), b.getInt(STATE) != 0,
                new UUID(b.getLong(BOOT_ID), b.getLong(BOOT_ID + 8)), b.getLong(56), b.getLong(CLEARED));
    }

    /** Writes the whole header into the first page of {@code page}. */
    void write(ByteBuffer page) {
        ByteBuffer b = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < SIZE; i += 8) {
            b.putLong(i, 0);
        }
        b.put(0, MAGIC);
        b.putInt(8, VERSION);
        b.putInt(12, SIZE);
        b.putLong(16, granularity);
        b.putLong(24, exportSize);
        b.putInt(STATE, inUse ? 1 : 0);
        b.putLong(BOOT_ID, bootId.getMostSignificantBits());
        b.putLong(BOOT_ID + 8, bootId.getLeastSignificantBits());
        b.putLong(56, createdMillis);
        b.putLong(CLEARED, clearedMillis);
    }

    BitmapHeader inUse(UUID boot, long size) {
        return new BitmapHeader(granularity, size, true, boot, createdMillis, clearedMillis);
    }

    BitmapHeader closed() {
        return new BitmapHeader(granularity, exportSize, false, bootId, createdMillis, clearedMillis);
    }

    BitmapHeader cleared(long millis) {
        return new BitmapHeader(granularity, exportSize, inUse, bootId, createdMillis, millis);
    }
}
