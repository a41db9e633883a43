package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.RO;
import static org.bufcached.daemon.testing.TestDaemon.RO_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.bufcached.daemon.testing.Chunk;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.RawClient;
import org.bufcached.daemon.testing.Reply;
import org.junit.jupiter.api.Test;

/** Successful requests: data in and out, simple and structured replies, pipelining, the commands without data. */
class TransmissionTest extends DaemonTest {

    @Test
    void writeThenReadWithSimpleReplies() throws Exception {
        RawClient c = nbd.open(DISK);
        byte[] data = pattern(65536, 20);
        Reply w = c.write(12345, data).assertOk();
        assertThat(w.structured()).isFalse();
        assertThat(w.data()).isEmpty();
        Reply r = c.read(12345, data.length).assertOk();
        assertThat(r.structured()).isFalse();
        assertThat(r.data()).isEqualTo(data);
        assertThat(nbd.fileContent(DISK, 12345, data.length)).as("the backing file").isEqualTo(data);
    }

    @Test
    void readOfTheReadOnlyExportReturnsTheFileContents() throws Exception {
        byte[] all = nbd.open(RO).read(0, (int) RO_SIZE).assertOk().data();
        assertThat(all).isEqualTo(pattern(RO_SIZE, 0));
    }

    @Test
    void structuredReadIsOneOffsetDataChunkWithDone() throws Exception {
        RawClient c = nbd.openStructured(DISK);
        byte[] data = pattern(10000, 21);
        Reply w = c.write(4096, data).assertOk();
        // Without a payload either kind of reply is allowed; a structured one must be a lone NONE chunk.
        if (w.structured()) {
            assertThat(w.chunks()).singleElement()
                    .matches(ch -> ch.type() == REPLY_TYPE_NONE && ch.done() && ch.payload().length == 0);
        }
        Reply r = c.read(4096, data.length).assertOk();
        assertThat(r.chunks()).hasSize(1);
        Chunk chunk = r.chunks().get(0);
        assertThat(chunk.type()).isEqualTo(REPLY_TYPE_OFFSET_DATA);
        assertThat(chunk.done()).isTrue();
        assertThat(chunk.payload()).hasSize(8 + data.length);
        assertThat(ByteBuffer.wrap(chunk.payload()).getLong()).as("chunk offset").isEqualTo(4096);
        assertThat(r.data()).isEqualTo(data);
    }

    @Test
    void structuredReadOfZeroLengthIsOneNoneChunk() throws Exception {
        Reply r = nbd.openStructured(DISK).read(4096, 0).assertOk();
        assertThat(r.chunks()).singleElement()
                .matches(ch -> ch.type() == REPLY_TYPE_NONE && ch.done() && ch.payload().length == 0);
    }

    @Test
    void dfReadWithStructuredRepliesIsOneContentChunk() throws Exception {
        RawClient c = nbd.openStructured(DISK);
        c.write(0, pattern(8192, 22)).assertOk();
        Reply r = c.request(CMD_READ, CMD_FLAG_DF, 0, 65536).assertOk();
        assertThat(r.chunks().stream().filter(ch -> ch.type() == REPLY_TYPE_OFFSET_DATA
                || ch.type() == REPLY_TYPE_OFFSET_HOLE)).hasSize(1);
        assertThat(ByteBuffer.wrap(r.data(), 0, 8192)).isEqualTo(ByteBuffer.wrap(pattern(8192, 22)));
    }

    @Test
    void fiftyPipelinedRequestsAreAllAnsweredByCookie() throws Exception {
        RawClient c = nbd.open(DISK);
        int n = 50;
        Map<Long, Integer> writes = new HashMap<>();
        for (int i = 0; i < n; i++) {
            writes.put(c.sendWrite(i * 8192L, pattern(8192, 100 + i), 0), i);
        }
        Set<Long> answered = new HashSet<>();
        for (int i = 0; i < n; i++) {
            Reply r = c.readReply().assertOk();
            assertThat(writes).containsKey(r.cookie());
            assertThat(answered.add(r.cookie())).as("cookie %d answered twice", r.cookie()).isTrue();
        }
        Map<Long, Integer> reads = new HashMap<>();
        for (int i = 0; i < n; i++) {
            reads.put(c.sendRead(i * 8192L, 8192), i);
        }
        for (int i = 0; i < n; i++) {
            Reply r = c.readReply().assertOk();
            Integer which = reads.remove(r.cookie());
            assertThat(which).as("reply to an outstanding read").isNotNull();
            assertThat(r.data()).isEqualTo(pattern(8192, 100 + which));
        }
    }

    @Test
    void aThousandPipelinedReadsPassTheInFlightLimitAndAreAllAnswered() throws Exception {
        // More than the server admits in flight at once: it must pause reading and resume, not stall.
        RawClient c = nbd.openStructured(DISK);
        c.write(0, pattern(4096, 28)).assertOk();
        Set<Long> outstanding = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            outstanding.add(c.sendRead(0, 4096));
        }
        while (!outstanding.isEmpty()) {
            Reply r = c.readReply().assertOk();
            assertThat(outstanding.remove(r.cookie())).isTrue();
            assertThat(r.data()).isEqualTo(pattern(4096, 28));
        }
    }

    @Test
    void pipelinedRequestsSentBeforeTheHandshakeEndsAreServed() throws Exception {
        // A client may send its first requests right behind NBD_OPT_GO (the server must not lose them).
        RawClient c = nbd.connect().handshake();
        c.sendOption(OPT_GO, RawClient.infoRequest(DISK));
        long write = c.sendWrite(0, pattern(4096, 23), 0);
        long read = c.sendRead(0, 4096);
        assertThat(c.readOptionReplies(OPT_GO)).last().matches(r -> r.type() == REP_ACK);
        Map<Long, Reply> replies = new HashMap<>();
        for (int i = 0; i < 2; i++) {
            Reply r = c.readReply().assertOk();
            replies.put(r.cookie(), r);
        }
        assertThat(replies).containsOnlyKeys(write, read);
        // The read may have run before the write: its data is the old or the new content, never a mix.
        assertThat(replies.get(read).data()).isIn(pattern(4096, 23), new byte[4096]);
        assertThat(c.read(0, 4096).assertOk().data()).isEqualTo(pattern(4096, 23));
    }

    @Test
    void fuaWriteIsAcknowledgedAndOnDisk() throws Exception {
        RawClient c = nbd.open(DISK);
        byte[] data = pattern(4096, 24);
        c.write(1 << 20, data, CMD_FLAG_FUA).assertOk();
        assertThat(nbd.fileContent(DISK, 1 << 20, data.length)).isEqualTo(data);
    }

    @Test
    void flushSucceeds() throws Exception {
        RawClient c = nbd.open(DISK);
        c.write(0, pattern(4096, 25)).assertOk();
        c.request(CMD_FLUSH, 0, 0, 0).assertOk();
    }

    @Test
    void cacheSucceedsAndChangesNothing() throws Exception {
        RawClient c = nbd.open(DISK);
        c.write(0, pattern(65536, 26)).assertOk();
        c.request(CMD_CACHE, 0, 0, 1 << 20).assertOk();
        assertThat(c.read(0, 65536).assertOk().data()).isEqualTo(pattern(65536, 26));
    }

    @Test
    void writesOnOneConnectionAreVisibleOnAnother() throws Exception {
        // CAN_MULTI_CONN is advertised: connections share one view of the export.
        RawClient a = nbd.open(DISK);
        RawClient b = nbd.openStructured(DISK);
        a.write(8192, pattern(4096, 27)).assertOk();
        assertThat(b.read(8192, 4096).assertOk().data()).isEqualTo(pattern(4096, 27));
    }
}
