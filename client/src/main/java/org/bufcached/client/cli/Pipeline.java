package org.bufcached.client.cli;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs {@code count} asynchronous steps with at most {@code depth} of them in
 * flight, in index order of start. Each of the {@code depth} lanes runs one step
 * at a time and takes the next free index when its step completes; a step learns
 * its lane, so that a lane may keep to one connection (and its event loop). A step
 * that completes at once does not recurse, so synchronous endpoints (files) cannot
 * overflow the stack. The first failure stops new steps and fails the whole.
 */
final class Pipeline {
    /** One step: the work of {@code index}, on lane {@code lane} (0 to depth - 1). */
    @FunctionalInterface
    interface Step {
        CompletableFuture<?> apply(int lane, int index);
    }

    private final int count;
    private final Step step;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger lanes;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private Pipeline(int count, int depth, Step step) {
        this.count = count;
        this.step = step;
        this.lanes = new AtomicInteger(depth);
    }

    static CompletableFuture<Void> run(int count, int depth, Step step) {
        int lanes = Math.max(1, Math.min(depth, count));
        Pipeline p = new Pipeline(count, lanes, step);
        if (count == 0) {
            p.done.complete(null);
        }
        for (int i = 0; i < lanes && count > 0; i++) {
            p.lane(i);
        }
        return p.done;
    }

    private void lane(int lane) {
        while (!done.isDone()) {
            int i = next.getAndIncrement();
            if (i >= count) {
                if (lanes.decrementAndGet() == 0) {
                    done.complete(null);
                }
                return;
            }
            CompletableFuture<?> f;
            try {
                f = step.apply(lane, i);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            if (!f.isDone()) {
                f.whenComplete((v, t) -> {
                    if (t != null) {
                        done.completeExceptionally(t);
                    } else {
                        lane(lane);
                    }
                });
                return;
            }
            if (f.isCompletedExceptionally()) {
                f.whenComplete((v, t) -> done.completeExceptionally(t));
                return;
            }
        }
    }
}
