package org.bufcached.config;

/**
 * The block size constraints an export advertises with NBD_INFO_BLOCK_SIZE.
 * All are powers of two; the NBD specification requires
 * {@code minimum <= 64KiB} and {@code preferred >= max(minimum, 512)}, and
 * here {@code maxPayload >= preferred}.
 *
 * @param minimum    smallest request granularity the export supports
 * @param preferred  granularity below which requests cost a read-modify-write
 * @param maxPayload largest request payload the server accepts
 */
public record BlockSizes(int minimum, int preferred, int maxPayload) {
    /**
     * What an export gets unless configured: any alignment, 4 KiB preferred, and
     * nbdkit's maximum payload of 64 MiB (nbd's own test client sends requests of
     * ~48 MiB; the spec asks for at least 32 MiB).
     */
    public static final BlockSizes DEFAULTS = new BlockSizes(1, 4096, 64 << 20);
}
