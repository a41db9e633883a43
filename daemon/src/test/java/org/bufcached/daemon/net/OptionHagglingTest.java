package org.bufcached.daemon.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bufcached.daemon.testing.NbdWire.*;
import static org.bufcached.daemon.testing.RawClient.infoRequest;
import static org.bufcached.daemon.testing.RawClient.metaContextRequest;
import static org.bufcached.daemon.testing.TestDaemon.DISK;
import static org.bufcached.daemon.testing.TestDaemon.DISK_DESCRIPTION;
import static org.bufcached.daemon.testing.TestDaemon.DISK_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.MIB;
import static org.bufcached.daemon.testing.TestDaemon.RO;
import static org.bufcached.daemon.testing.TestDaemon.RO_SIZE;
import static org.bufcached.daemon.testing.TestDaemon.pattern;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bufcached.daemon.testing.DaemonTest;
import org.bufcached.daemon.testing.OptionReply;
import org.bufcached.daemon.testing.RawClient;
import org.junit.jupiter.api.Test;

/**
 * Option haggling: each option answered as the spec requires, errors answered
 * with the right NBD_REP_ERR_* and the next option parsed normally.
 */
class OptionHagglingTest extends DaemonTest {
    private static final int UNKNOWN_OPTION = 99;
    private static final int RW_FLAGS = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM
            | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO | FLAG_CAN_MULTI_CONN | FLAG_SEND_CACHE;

    private RawClient haggling() throws IOException {
        return nbd.connect().handshake();
    }

    /** NBD_OPT_LIST with no data must list both exports: proof that option parsing is back in step. */
    private static void assertListWorks(RawClient c) throws IOException {
        assertThat(c.option(OPT_LIST, new byte[0])).extracting(OptionReply::type)
                .containsExactly(REP_SERVER, REP_SERVER, REP_ACK);
    }

    @Test
    void unknownOptionIsUnsupportedAndTheNextOptionIsParsed() throws Exception {
        RawClient c = haggling();
        OptionReply r = c.singleReply(UNKNOWN_OPTION, new byte[] {1, 2, 3, 4, 5});
        assertThat(r.type()).isEqualTo(REP_ERR_UNSUP);
        assertListWorks(c);
    }

    @Test
    void optionDataOf64KiBPlusOneIsTooBigAndTheNextOptionIsParsed() throws Exception {
        RawClient c = haggling();
        assertThat(c.singleReply(OPT_GO, new byte[64 * 1024 + 1]).type()).isEqualTo(REP_ERR_TOO_BIG);
        assertListWorks(c);
    }

    @Test
    void optionDataOfExactly64KiBIsStillParsed() throws Exception {
        RawClient c = haggling();
        // Within the limit, so the option itself is judged: NBD_OPT_LIST takes no data.
        assertThat(c.singleReply(OPT_LIST, new byte[64 * 1024]).type()).isEqualTo(REP_ERR_INVALID);
        assertListWorks(c);
    }

    @Test
    void oneMebibyteOfOptionDataIsTooBigAndTheNextOptionIsParsed() throws Exception {
        RawClient c = haggling();
        assertThat(c.singleReply(UNKNOWN_OPTION, pattern(MIB, 7)).type()).isEqualTo(REP_ERR_TOO_BIG);
        c.enter(DISK).assertRoundTrip(0, pattern(4096, 8));
    }

    @Test
    void oversizedOptionDataIsSkippedAsItArrivesNotBuffered() throws Exception {
        PooledByteBufAllocatorMetric metric = PooledByteBufAllocator.DEFAULT.metric();
        RawClient c = haggling();
        assertListWorks(c);
        long before = metric.usedDirectMemory() + metric.usedHeapMemory();
        int declared = 32 * MIB;
        c.sendOptionHeader(UNKNOWN_OPTION, declared);
        byte[] slice = new byte[MIB];
        for (int i = 0; i < 24; i++) {
            c.write(slice); // returns once the server has taken all but a socket buffer's worth
        }
        long grown = metric.usedDirectMemory() + metric.usedHeapMemory() - before;
        assertThat(grown).as("server memory grown while 24 MiB of option data arrived").isLessThan(12L * MIB);
        for (int i = 24; i < 32; i++) {
            c.write(slice);
        }
        assertThat(c.readOptionReply().type()).isEqualTo(REP_ERR_TOO_BIG);
        assertListWorks(c);
    }

    @Test
    void listWithDataIsInvalid() throws Exception {
        RawClient c = haggling();
        assertThat(c.singleReply(OPT_LIST, new byte[] {0, 0, 0, 0}).type()).isEqualTo(REP_ERR_INVALID);
        assertListWorks(c);
    }

    @Test
    void listSendsOneServerReplyPerExportWithNameAndDescriptionThenAck() throws Exception {
        List<OptionReply> replies = haggling().option(OPT_LIST, new byte[0]);
        assertThat(replies).last().extracting(OptionReply::type).isEqualTo(REP_ACK);
        Map<String, String> exports = new TreeMap<>();
        for (OptionReply r : replies.subList(0, replies.size() - 1)) {
            assertThat(r.type()).isEqualTo(REP_SERVER);
            ByteBuffer b = r.buffer();
            byte[] name = new byte[b.getInt()];
            b.get(name);
            exports.put(new String(name, StandardCharsets.UTF_8), StandardCharsets.UTF_8.decode(b).toString());
        }
        assertThat(exports).containsExactlyEntriesOf(new TreeMap<>(Map.of(DISK, DISK_DESCRIPTION, RO, "")));
    }

    @Test
    void starttlsIsRefusedByPolicyAndWithDataIsInvalid() throws Exception {
        RawClient c = haggling();
        assertThat(c.singleReply(OPT_STARTTLS, new byte[0]).type()).isEqualTo(REP_ERR_POLICY);
        assertThat(c.singleReply(OPT_STARTTLS, new byte[] {1}).type()).isEqualTo(REP_ERR_INVALID);
        assertListWorks(c);
    }

    @Test
    void infoAndGoForAnUnknownExportAreUnknownWithoutInfoThenGoForAGoodOneWorks() throws Exception {
        RawClient c = haggling();
        assertThat(c.option(OPT_INFO, infoRequest("nosuch"))).extracting(OptionReply::type)
                .containsExactly(REP_ERR_UNKNOWN);
        assertThat(c.go("nosuch", INFO_NAME)).extracting(OptionReply::type).containsExactly(REP_ERR_UNKNOWN);
        c.enter(DISK).assertRoundTrip(0, pattern(4096, 9));
    }

    @Test
    void goWithANameLengthBeyondTheDataIsInvalid() throws Exception {
        RawClient c = haggling();
        byte[] malformed = ByteBuffer.allocate(10).putInt(100).put("disk".getBytes()).putShort((short) 0).array();
        assertThat(c.singleReply(OPT_GO, malformed).type()).isEqualTo(REP_ERR_INVALID);
        c.enter(DISK).assertRoundTrip(0, pattern(4096, 10));
    }

    @Test
    void goWithAnInformationCountBeyondTheDataIsInvalid() throws Exception {
        RawClient c = haggling();
        byte[] malformed = ByteBuffer.allocate(12).putInt(4).put("disk".getBytes()).putShort((short) 5)
                .putShort((short) INFO_NAME).array();
        assertThat(c.singleReply(OPT_GO, malformed).type()).isEqualTo(REP_ERR_INVALID);
        assertThat(c.singleReply(OPT_GO, new byte[3]).type()).as("shorter than 6 bytes").isEqualTo(REP_ERR_INVALID);
        c.enter(DISK);
    }

    @Test
    void goAnswersExportSizeFlagsAndBlockSizes() throws Exception {
        Map<Integer, ByteBuffer> info = infos(haggling().go(DISK));
        ByteBuffer export = info.get(INFO_EXPORT);
        assertThat(export.remaining()).isEqualTo(12);
        assertThat(export.getShort()).isEqualTo((short) INFO_EXPORT);
        assertThat(export.getLong()).as("size").isEqualTo(DISK_SIZE);
        assertThat(export.getShort() & 0xFFFF).as("transmission flags, no DF without structured replies")
                .isEqualTo(RW_FLAGS);
        ByteBuffer bs = info.get(INFO_BLOCK_SIZE);
        assertThat(bs.remaining()).isEqualTo(14);
        bs.getShort();
        assertThat(new int[] {bs.getInt(), bs.getInt(), bs.getInt()}).as("minimum, preferred, maximum")
                .containsExactly(1, 4096, 32 * MIB);
        assertThat(info).doesNotContainKeys(INFO_NAME, INFO_DESCRIPTION);
    }

    @Test
    void goAfterStructuredRepliesAdvertisesDf() throws Exception {
        RawClient c = haggling().structuredReplies();
        assertThat(flags(infos(c.go(DISK)))).isEqualTo(RW_FLAGS | FLAG_SEND_DF);
    }

    @Test
    void readOnlyExportAdvertisesReadOnlyAndNoTrimOrZeroes() throws Exception {
        Map<Integer, ByteBuffer> info = infos(haggling().go(RO));
        ByteBuffer export = info.get(INFO_EXPORT).duplicate();
        export.getShort();
        assertThat(export.getLong()).isEqualTo(RO_SIZE);
        int flags = flags(info);
        assertThat(flags & (FLAG_HAS_FLAGS | FLAG_READ_ONLY)).isEqualTo(FLAG_HAS_FLAGS | FLAG_READ_ONLY);
        assertThat(flags & (FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO | FLAG_SEND_DF)).isZero();
    }

    @Test
    void infoAndGoAnswerNameAndDescriptionWhenRequestedAndTheSameFlags() throws Exception {
        RawClient c = haggling();
        List<OptionReply> infoReplies = c.option(OPT_INFO, infoRequest(DISK, INFO_NAME, INFO_DESCRIPTION));
        assertThat(infoReplies).last().extracting(OptionReply::type).isEqualTo(REP_ACK);
        Map<Integer, ByteBuffer> info = infos(infoReplies);
        assertThat(string(info.get(INFO_NAME))).isEqualTo(DISK);
        assertThat(string(info.get(INFO_DESCRIPTION))).isEqualTo(DISK_DESCRIPTION);
        // INFO did not enter transmission: options still work, and GO with the same request agrees.
        Map<Integer, ByteBuffer> go = infos(c.go(DISK, INFO_NAME, INFO_DESCRIPTION));
        assertThat(go).containsOnlyKeys(info.keySet());
        assertThat(flags(go)).isEqualTo(flags(info));
        c.assertRoundTrip(0, pattern(4096, 11));
    }

    @Test
    void setMetaContextBeforeStructuredRepliesIsInvalid() throws Exception {
        RawClient c = haggling();
        assertThat(c.option(OPT_SET_META_CONTEXT, metaContextRequest(DISK, BASE_ALLOCATION)))
                .extracting(OptionReply::type).containsExactly(REP_ERR_INVALID);
        assertListWorks(c);
    }

    @Test
    void listMetaContextWithBaseNamespaceListsBaseAllocation() throws Exception {
        RawClient c = haggling().structuredReplies();
        List<OptionReply> replies = c.option(OPT_LIST_META_CONTEXT, metaContextRequest(DISK, "base:"));
        assertThat(replies).extracting(OptionReply::type).containsExactly(REP_META_CONTEXT, REP_ACK);
        ByteBuffer b = replies.get(0).buffer();
        assertThat(b.getInt()).as("context id of a list reply (SHOULD be 0)").isZero();
        assertThat(StandardCharsets.UTF_8.decode(b).toString()).isEqualTo(BASE_ALLOCATION);
    }

    @Test
    void listMetaContextIgnoresUnknownNamespaces() throws Exception {
        RawClient c = haggling().structuredReplies();
        assertThat(c.option(OPT_LIST_META_CONTEXT, metaContextRequest(DISK, "x-nosuch:thing")))
                .extracting(OptionReply::type).containsExactly(REP_ACK);
    }

    @Test
    void setMetaContextSelectsBaseAllocationOnceThenAcks() throws Exception {
        RawClient c = haggling().structuredReplies();
        c.selectAllocation(DISK); // asserts exactly one NBD_REP_META_CONTEXT, then NBD_REP_ACK
        assertThat(c.option(OPT_SET_META_CONTEXT, metaContextRequest(DISK))).as("zero queries select nothing")
                .extracting(OptionReply::type).containsExactly(REP_ACK);
    }

    @Test
    void metaContextWithAQueryLengthBeyondTheDataIsInvalid() throws Exception {
        RawClient c = haggling().structuredReplies();
        byte[] malformed = ByteBuffer.allocate(16).putInt(4).put("disk".getBytes()).putInt(1).putInt(200).array();
        assertThat(c.option(OPT_SET_META_CONTEXT, malformed)).extracting(OptionReply::type)
                .containsExactly(REP_ERR_INVALID);
        c.selectAllocation(DISK);
    }

    private static Map<Integer, ByteBuffer> infos(List<OptionReply> replies) {
        assertThat(replies).last().extracting(OptionReply::type).isEqualTo(REP_ACK);
        Map<Integer, ByteBuffer> info = new TreeMap<>();
        for (OptionReply r : replies.subList(0, replies.size() - 1)) {
            assertThat(info.put(r.infoType(), r.buffer())).as("information type sent twice").isNull();
        }
        assertThat(info).as("NBD_INFO_EXPORT is mandatory").containsKey(INFO_EXPORT);
        return info;
    }

    private static int flags(Map<Integer, ByteBuffer> info) {
        return info.get(INFO_EXPORT).getShort(10) & 0xFFFF;
    }

    private static String string(ByteBuffer info) {
        ByteBuffer b = info.duplicate();
        b.getShort();
        return StandardCharsets.UTF_8.decode(b).toString();
    }
}
