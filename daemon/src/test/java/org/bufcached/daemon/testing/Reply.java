package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A complete reply to one request: a simple reply (no chunks) or every chunk of a
 * structured or extended reply up to the one flagged DONE. {@code data} is the
 * payload of a successful simple READ reply, or the read data reassembled from
 * content chunks.
 */
public record Reply(long cookie, boolean structured, int error, byte[] data, List<Chunk> chunks) {

    /** One base:allocation descriptor. */
    public record Extent(long length, int flags) {
    }

    public Reply assertOk() {
        assertThat(error).as("error of reply to cookie %d (%s)", cookie, errorMessage()).isZero();
        return this;
    }

    public Reply assertError(int expected) {
        assertThat(error).as("error of reply to cookie %d", cookie).isEqualTo(expected);
        if (structured) {
            assertThat(chunks).as("a structured error reply ends with its error chunk").last()
                    .matches(Chunk::done).matches(Chunk::isError);
            assertThat(errorChunk().message()).as("error message").isNotBlank();
        }
        return this;
    }

    public Chunk errorChunk() {
        return chunks.stream().filter(Chunk::isError).findFirst()
                .orElseThrow(() -> new AssertionError("no error chunk in " + chunks));
    }

    public String errorMessage() {
        return structured && error != 0 ? errorChunk().message() : "";
    }

    /** The one status chunk (NBD_REPLY_TYPE_BLOCK_STATUS or _EXT) of a block status reply. */
    public Chunk blockStatusChunk() {
        assertOk();
        List<Chunk> status = chunks.stream().filter(c -> c.type() == NbdWire.REPLY_TYPE_BLOCK_STATUS
                || c.type() == NbdWire.REPLY_TYPE_BLOCK_STATUS_EXT).toList();
        assertThat(status).as("block status chunks (one per selected context)").hasSize(1);
        return status.get(0);
    }

    public int contextId() {
        return ByteBuffer.wrap(blockStatusChunk().payload()).getInt();
    }

    /** The descriptors of the status chunk, in either layout, checked as the spec says. */
    public List<Extent> extents() {
        Chunk chunk = blockStatusChunk();
        if (chunk.type() == NbdWire.REPLY_TYPE_BLOCK_STATUS_EXT) {
            return extendedExtents(chunk.payload());
        }
        byte[] payload = chunk.payload();
        assertThat((payload.length - 4) % 8).as("descriptor bytes are a multiple of 8").isZero();
        ByteBuffer b = ByteBuffer.wrap(payload, 4, payload.length - 4);
        List<Extent> extents = new ArrayList<>();
        while (b.hasRemaining()) {
            long length = b.getInt() & 0xFFFFFFFFL;
            assertThat(length).as("descriptor length").isPositive();
            extents.add(new Extent(length, b.getInt()));
        }
        assertThat(extents).as("descriptors").isNotEmpty();
        return extents;
    }

    /** NBD_REPLY_TYPE_BLOCK_STATUS_EXT: context id, descriptor count, then 64-bit length and 64-bit status each. */
    private static List<Extent> extendedExtents(byte[] payload) {
        assertThat((payload.length - 8) % 16).as("length is 8 + a multiple of 16").isZero();
        ByteBuffer b = ByteBuffer.wrap(payload);
        b.getInt(); // context id
        long count = b.getInt() & 0xFFFFFFFFL;
        assertThat(count).as("descriptor count (MUST be nonzero and match the length)")
                .isPositive().isEqualTo((payload.length - 8) / 16);
        List<Extent> extents = new ArrayList<>();
        while (b.hasRemaining()) {
            long length = b.getLong();
            long status = b.getLong();
            assertThat(length).as("descriptor length (nonzero, below 2^63 on any real export)").isPositive();
            assertThat(status >>> 32).as("upper 32 bits of a base: status MUST be zero").isZero();
            extents.add(new Extent(length, (int) status));
        }
        return extents;
    }
}
