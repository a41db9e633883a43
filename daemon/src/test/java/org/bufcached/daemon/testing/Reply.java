package org.bufcached.daemon.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A complete reply to one request: a simple reply (no chunks) or every chunk of a
 * structured reply up to the one flagged DONE. {@code data} is the payload of a
 * successful simple READ reply, or the read data reassembled from content chunks.
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

    /** The one NBD_REPLY_TYPE_BLOCK_STATUS chunk of a block status reply. */
    public Chunk blockStatusChunk() {
        assertOk();
        List<Chunk> status = chunks.stream().filter(c -> c.type() == NbdWire.REPLY_TYPE_BLOCK_STATUS).toList();
        assertThat(status).as("block status chunks (one per selected context)").hasSize(1);
        return status.get(0);
    }

    public int contextId() {
        return ByteBuffer.wrap(blockStatusChunk().payload()).getInt();
    }

    public List<Extent> extents() {
        byte[] payload = blockStatusChunk().payload();
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
}
