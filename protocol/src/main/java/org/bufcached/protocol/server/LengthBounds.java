package org.bufcached.protocol.server;

/**
 * How far a server goes to refuse oversized data cleanly. Data over what the
 * server accepts is skipped as it arrives and refused with an error
 * (NBD_REP_ERR_TOO_BIG, NBD_EINVAL), so that the connection stays usable; data
 * announced beyond the hard limit closes the connection at once, as the spec
 * allows for lengths "large enough to be deemed a denial of service".
 *
 * <p>The hard limit is twice what the server accepts, as in nbdkit (which skips
 * WRITE payloads up to twice its 64 MiB maximum and disconnects beyond), and never
 * below 2^25 bytes: the spec says a payload up to 2^25 SHOULD NOT be treated as a
 * denial of service. qemu-nbd disconnects at once above its 32 MiB buffer.
 */
public final class LengthBounds {
    /** The spec: lengths up to 2^25 (32 MiB) SHOULD NOT be considered a denial of service. */
    public static final long DENIAL_OF_SERVICE_FREE = 1L << 25;

    private LengthBounds() {
    }

    /** The longest announced data skipped and refused cleanly when the server accepts {@code accepted} bytes. */
    public static long hardLimit(long accepted) {
        return Math.max(DENIAL_OF_SERVICE_FREE, 2 * accepted);
    }
}
