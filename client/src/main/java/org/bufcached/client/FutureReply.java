package org.bufcached.client;

import java.util.concurrent.CompletableFuture;

/** A {@link ReplyCallback} that is its own future: one object per request on the convenient path. */
final class FutureReply<T> extends CompletableFuture<T> implements ReplyCallback<T> {
    @Override
    public void completed(T result, Throwable error) {
        if (error != null) {
            completeExceptionally(error);
        } else {
            complete(result);
        }
    }
}
