package org.bufcached.daemon.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The intrusive queues of one queue set keep TAILQ semantics: head, tail, both directions, length. */
class BufQueuesTest {

    private final BufQueues q = new BufQueues(3);

    /** Walks forward from the head and backward from the last element; both must agree with the length. */
    private List<Buf> checked(int queue) {
        List<Buf> forward = new ArrayList<>();
        Buf last = null;
        for (Buf bp = q.first(queue); bp != null; bp = BufQueues.next(bp)) {
            assertThat(bp.qindex).isEqualTo(queue);
            assertThat(bp.qcpu).isEqualTo(3);
            assertThat(bp.qprev).isSameAs(last);
            forward.add(bp);
            last = bp;
        }
        List<Buf> backward = new ArrayList<>();
        for (Buf bp = last; bp != null; bp = bp.qprev) {
            backward.add(0, bp);
        }
        assertThat(backward).containsExactlyElementsOf(forward);
        assertThat(q.length(queue)).isEqualTo(forward.size());
        if (!forward.isEmpty()) {
            assertThat(q.first(queue).qprev).isNull();
            assertThat(forward.get(forward.size() - 1).qnext).isNull();
        }
        return forward;
    }

    @Test
    void insertTailAppendsInOrder() {
        Buf a = new Buf(0, 1), b = new Buf(0, 1), c = new Buf(0, 1);
        q.insertTail(BufQueues.CLEAN, a);
        q.insertTail(BufQueues.CLEAN, b);
        q.insertTail(BufQueues.CLEAN, c);
        assertThat(checked(BufQueues.CLEAN)).containsExactly(a, b, c);
        assertThat(checked(BufQueues.DIRTY)).isEmpty();
    }

    @Test
    void insertHeadPrepends() {
        Buf a = new Buf(0, 1), b = new Buf(0, 1), c = new Buf(0, 1);
        q.insertHead(BufQueues.EMPTY, a);
        q.insertTail(BufQueues.EMPTY, b);
        q.insertHead(BufQueues.EMPTY, c);
        assertThat(checked(BufQueues.EMPTY)).containsExactly(c, a, b);
    }

    @Test
    void insertAfterInTheMiddleAndAtTheTail() {
        Buf a = new Buf(0, 1), b = new Buf(0, 1), c = new Buf(0, 1), d = new Buf(0, 1);
        q.insertTail(BufQueues.DIRTY, a);
        q.insertTail(BufQueues.DIRTY, b);
        q.insertAfter(a, c); // middle
        assertThat(checked(BufQueues.DIRTY)).containsExactly(a, c, b);
        q.insertAfter(b, d); // after the tail: d is the new tail
        assertThat(checked(BufQueues.DIRTY)).containsExactly(a, c, b, d);
        Buf e = new Buf(0, 1);
        q.insertTail(BufQueues.DIRTY, e); // the tail pointer moved to d, so e goes after d
        assertThat(checked(BufQueues.DIRTY)).containsExactly(a, c, b, d, e);
    }

    @Test
    void removeHeadMiddleTailAndOnly() {
        Buf a = new Buf(0, 1), b = new Buf(0, 1), c = new Buf(0, 1), d = new Buf(0, 1);
        for (Buf bp : List.of(a, b, c, d)) {
            q.insertTail(BufQueues.DIRTY_HW, bp);
        }
        q.remove(b);
        assertThat(b.qindex).isEqualTo(BufQueues.NONE);
        assertThat(b.qnext).isNull();
        assertThat(b.qprev).isNull();
        assertThat(checked(BufQueues.DIRTY_HW)).containsExactly(a, c, d);
        q.remove(a);
        assertThat(checked(BufQueues.DIRTY_HW)).containsExactly(c, d);
        q.remove(d);
        assertThat(checked(BufQueues.DIRTY_HW)).containsExactly(c);
        q.insertTail(BufQueues.DIRTY_HW, a); // the tail was fixed up by the removal of d
        assertThat(checked(BufQueues.DIRTY_HW)).containsExactly(c, a);
        q.remove(c);
        q.remove(a);
        assertThat(checked(BufQueues.DIRTY_HW)).isEmpty();
        assertThat(q.first(BufQueues.DIRTY_HW)).isNull();
        q.insertHead(BufQueues.DIRTY_HW, d); // an emptied queue takes a new element as head and tail
        q.insertTail(BufQueues.DIRTY_HW, b);
        assertThat(checked(BufQueues.DIRTY_HW)).containsExactly(d, b);
    }

    @Test
    void queuesAreIndependent() {
        Buf a = new Buf(0, 1), b = new Buf(0, 1);
        q.insertTail(BufQueues.CLEAN, a);
        q.insertTail(BufQueues.EMPTY, b);
        q.remove(a);
        assertThat(checked(BufQueues.CLEAN)).isEmpty();
        assertThat(checked(BufQueues.EMPTY)).containsExactly(b);
    }

    @Test
    void removingABufferOnNoQueueIsAnError() {
        Buf a = new Buf(0, 1);
        assertThat(a.qindex).isEqualTo(BufQueues.NONE);
        assertThatThrownBy(() -> q.remove(a)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aMarkerWalksBehindTheBufferItPassed() {
        // flushbufqueues: marker at the head, then moved after the buffer it took.
        Buf a = new Buf(0, 1), b = new Buf(0, 1), m = Buf.marker();
        q.insertTail(BufQueues.DIRTY, a);
        q.insertTail(BufQueues.DIRTY, b);
        q.insertHead(BufQueues.DIRTY, m);
        assertThat(checked(BufQueues.DIRTY)).containsExactly(m, a, b);
        q.remove(m);
        q.insertAfter(a, m);
        q.remove(a);
        assertThat(checked(BufQueues.DIRTY)).containsExactly(m, b);
        assertThat(BufQueues.next(m)).isSameAs(b);
    }
}
