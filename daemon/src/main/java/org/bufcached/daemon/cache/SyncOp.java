package org.bufcached.daemon.cache;

import io.netty.util.Recycler;

/** A FLUSH's wait for its file's sync, pooled so that a stream of FLUSHes allocates nothing. */
final class SyncOp implements Durability.SyncWaiter {
    private static final Recycler<SyncOp> RECYCLER = new Recycler<>() {
        @Override
        protected SyncOp newObject(Handle<SyncOp> handle) {
            return new SyncOp(handle);
        }
    };

    private final Recycler.Handle<SyncOp> handle;
    private CacheCallback callback;

    private SyncOp(Recycler.Handle<SyncOp> handle) {
        this.handle = handle;
    }

    static SyncOp of(CacheCallback callback) {
        SyncOp op = RECYCLER.get();
        op.callback = callback;
        return op;
    }

    @Override
    public void synced(Throwable failure) {
        CacheCallback cb = callback;
        callback = null;
        handle.recycle(this);
        if (failure == null) {
            cb.done(null);
        } else {
            cb.failed(failure);
        }
    }
}
