package org.bufcached.daemon.net;

import io.netty.buffer.ByteBuf;
import io.netty.util.Recycler;
import io.netty.util.concurrent.EventExecutor;
import org.bufcached.daemon.cache.CacheCallback;
import org.bufcached.daemon.export.NbdErrors;
import org.bufcached.protocol.NbdError;
import org.bufcached.protocol.NbdRequest;
import org.bufcached.protocol.server.RequestDecoder;

/**
 * One request between its arrival and its reply: the store reports to it on any
 * thread, and it moves the reply back onto the connection's event loop (the
 * biodone path). Pooled, so a steady stream of requests allocates none.
 */
final class Exchange implements CacheCallback, Runnable {
    private static final Recycler<Exchange> RECYCLER = new Recycler<>() {
        @Override
        protected Exchange newObject(Handle<Exchange> handle) {
            return new Exchange(handle);
        }
    };

    private final Recycler.Handle<Exchange> handle;
    /** Set by the first completion: a store that answers twice (a bug) must not answer a recycled request. */
    private final java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
    private TransmissionHandler handler;
    private EventExecutor loop;
    int type;
    int flags;
    long cookie;
    long offset;
    long length;
    /** Payload memory the request holds until it is answered (see {@link RequestDecoder#reservation}). */
    long reservedPayload;
    long startNanos;
    ByteBuf data;
    NbdError error;
    String message;
    /** What the request waits for now, for the stuck-request report; set by the store. */
    volatile String waitingFor;
    /** Whether the stuck-request report has named this request already. */
    boolean reportedStuck;
    /** The handler's list of requests in flight (confined to the loop). */
    Exchange prev;
    Exchange next;

    private Exchange(Recycler.Handle<Exchange> handle) {
        this.handle = handle;
    }

    static Exchange of(TransmissionHandler handler, EventExecutor loop, NbdRequest r) {
        Exchange x = RECYCLER.get();
        x.handler = handler;
        x.loop = loop;
        x.type = r.type();
        x.flags = r.flags();
        x.cookie = r.cookie();
        x.offset = r.offset();
        x.length = r.length();
        x.reservedPayload = RequestDecoder.reservation(r);
        x.startNanos = System.nanoTime();
        x.data = null;
        x.error = null;
        x.message = null;
        x.waitingFor = null;
        x.reportedStuck = false;
        x.answered.set(false);
        return x;
    }

    boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    @Override
    public void done(ByteBuf result) {
        if (!answered.compareAndSet(false, true)) {
            secondAnswer(result, null);
            return;
        }
        data = result;
        deliver();
    }

    @Override
    public void failed(Throwable cause) {
        fail(NbdErrors.of(cause), NbdErrors.message(cause));
    }

    /** Fails with a given error: a request refused before it reached the store. */
    void fail(NbdError err, String msg) {
        if (!answered.compareAndSet(false, true)) {
            secondAnswer(null, err + " " + msg);
            return;
        }
        error = err;
        message = msg;
        deliver();
    }

    /** A store that answers twice has a bug: say so, release what came with it, leave the request alone. */
    private static void secondAnswer(ByteBuf data, String what) {
        if (data != null) {
            data.release();
        }
        org.slf4j.LoggerFactory.getLogger(Exchange.class).error("a request was answered twice",
                new IllegalStateException("second answer" + (what != null ? ": " + what : "")));
    }

    @Override
    public void waiting(String what) {
        waitingFor = what;
    }

    private void deliver() {
        if (loop.inEventLoop()) {
            run();
        } else {
            loop.execute(this);
        }
    }

    /** On the event loop: send the reply. */
    @Override
    public void run() {
        handler.reply(this);
    }

    /** Returns to the pool; the data, if any, has been handed on or released. */
    void recycle() {
        handler = null;
        loop = null;
        data = null;
        message = null;
        waitingFor = null;
        prev = null;
        next = null;
        handle.recycle(this);
    }
}
