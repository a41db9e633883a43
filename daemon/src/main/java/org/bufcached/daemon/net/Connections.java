package org.bufcached.daemon.net;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.bufcached.daemon.export.BlockStore;

/**
 * The daemon's open client connections, for shutdown (drain, then close), for
 * the connection limits, for draining one export on reload, and for counting.
 * Channels leave their groups by themselves when they close.
 */
public final class Connections {
    /** Where each open connection is with TLS; changed only on the connection's event loop. */
    private static final AttributeKey<TlsPhase> TLS_PHASE = AttributeKey.valueOf("bufcached.tls-phase");

    private final ChannelSet channels = new ChannelSet("nbd-clients");
    private final Map<BlockStore, ExportConnections> byStore = new ConcurrentHashMap<>();
    private final AtomicLong opened = new AtomicLong();
    private final AtomicLongArray handshakeFailures = new AtomicLongArray(HandshakeFailure.values().length);
    /** Open connections by {@link TlsPhase}. */
    private final AtomicLongArray tlsPhases = new AtomicLongArray(TlsPhase.values().length);
    private final AtomicLongArray tlsHandshakes = new AtomicLongArray(TlsHandshakeResult.values().length);
    private volatile boolean shuttingDown;
    private volatile int maxConnections = Integer.MAX_VALUE;
    private volatile int maxPerExport = Integer.MAX_VALUE;
    private volatile long stuckRequestNanos;
    private final AtomicLong stuckTotal = new AtomicLong();
    private final AtomicLong stuckNow = new AtomicLong();
    /** Connections in the transmission phase, for the report of what a shutdown cut short. */
    private final java.util.Set<TransmissionHandler> transmitting = ConcurrentHashMap.newKeySet();

    void add(Channel channel) {
        opened.incrementAndGet();
        channel.attr(TLS_PHASE).set(TlsPhase.PLAINTEXT);
        tlsPhases.incrementAndGet(TlsPhase.PLAINTEXT.ordinal());
        channel.closeFuture().addListener(f -> tlsPhases.decrementAndGet(channel.attr(TLS_PHASE).get().ordinal()));
        channels.add(channel);
    }

    /** Moves {@code channel} to {@code phase} in the count of connections by TLS phase; on its event loop. */
    void tlsPhase(Channel channel, TlsPhase phase) {
        TlsPhase before = channel.attr(TLS_PHASE).getAndSet(phase);
        tlsPhases.decrementAndGet(before.ordinal());
        tlsPhases.incrementAndGet(phase.ordinal());
    }

    /** Open connections in {@code phase}. */
    public long inTlsPhase(TlsPhase phase) {
        return tlsPhases.get(phase.ordinal());
    }

    void tlsHandshakeEnded(TlsHandshakeResult result) {
        tlsHandshakes.incrementAndGet(result.ordinal());
    }

    /** TLS handshakes that ended with {@code result}, since start. */
    public long tlsHandshakes(TlsHandshakeResult result) {
        return tlsHandshakes.get(result.ordinal());
    }

    /** Whether one more connection stays within {@code limits.max-connections}. */
    boolean admitsAnother() {
        return channels.size() < maxConnections;
    }

    /**
     * Counts {@code channel} as a connection to the export served by {@code store},
     * or returns null when that export is at its connection limit or being drained.
     * The limit is checked and taken in one step so concurrent handshakes cannot
     * overshoot it.
     */
    ExportConnections enter(BlockStore store, Channel channel) {
        ExportConnections[] entered = new ExportConnections[1];
        byStore.compute(store, (s, group) -> {
            ExportConnections g = group != null ? group : new ExportConnections();
            if (!g.draining() && g.size() < maxPerExport) {
                g.add(channel);
                entered[0] = g;
            }
            return g;
        });
        return entered[0];
    }

    /** The connections on {@code store}, or null if none ever entered the transmission phase on it. */
    public ExportConnections of(BlockStore store) {
        return byStore.get(store);
    }

    /** Forgets a store once its export is gone and its connections closed. */
    public void forget(BlockStore store) {
        byStore.remove(store);
    }

    /** Applies {@code limits.max-connections} and {@code limits.max-connections-per-export}; open connections stay. */
    public void limits(int maxTotal, int maxPerExport) {
        this.maxConnections = maxTotal;
        this.maxPerExport = maxPerExport;
    }

    /** {@code limits.stuck-request}: how long a request may be in flight before it is reported; 0: never. */
    public void stuckRequest(java.time.Duration bound) {
        this.stuckRequestNanos = bound.toNanos();
    }

    long stuckRequestNanos() {
        return stuckRequestNanos;
    }

    void stuckStarted() {
        stuckTotal.incrementAndGet();
        stuckNow.incrementAndGet();
    }

    void stuckEnded() {
        stuckNow.decrementAndGet();
    }

    /** Requests reported stuck since start. */
    public long stuckTotal() {
        return stuckTotal.get();
    }

    /** Requests reported stuck and still in flight. */
    public long stuckNow() {
        return stuckNow.get();
    }

    void transmitting(TransmissionHandler handler, boolean on) {
        if (on) {
            transmitting.add(handler);
        } else {
            transmitting.remove(handler);
        }
    }

    /**
     * The requests in flight on every connection, one line each (command, export,
     * offset, length, age, what it waits for), asked of each connection's loop and
     * waited for at most {@code millis}: for the log when a shutdown cuts them short.
     */
    public java.util.List<String> describeInFlight(long millis) {
        java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.List<io.netty.util.concurrent.Future<?>> asked = new java.util.ArrayList<>();
        for (TransmissionHandler h : transmitting) {
            asked.add(h.describeInFlight(lines));
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(millis);
        for (io.netty.util.concurrent.Future<?> f : asked) {
            f.awaitUninterruptibly(Math.max(0, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(
                    deadline - System.nanoTime())));
        }
        return lines;
    }

    void handshakeFailed(HandshakeFailure reason) {
        handshakeFailures.incrementAndGet(reason.ordinal());
    }

    /** Handshakes that ended in a closed connection for {@code reason}, since start. */
    public long handshakeFailures(HandshakeFailure reason) {
        return handshakeFailures.get(reason.ordinal());
    }

    void requestStarted() {
        channels.requestStarted();
    }

    void requestFinished() {
        channels.requestFinished();
    }

    /** Requests accepted and not yet answered, over all connections. */
    public long inFlight() {
        return channels.inFlight();
    }

    public int open() {
        return channels.size();
    }

    public long openedTotal() {
        return opened.get();
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** From now on new requests are refused with NBD_ESHUTDOWN and options with NBD_REP_ERR_SHUTDOWN. */
    public void beginShutdown() {
        shuttingDown = true;
    }

    /**
     * Every open connection as the admin socket shows it, each read on its own
     * event loop (where its counters live); a loop that does not answer within
     * {@code millis} leaves its connections out.
     */
    public List<ConnectionInfo> list(long millis) {
        List<Future<ConnectionInfo>> asked = new ArrayList<>();
        for (Channel ch : channels.snapshot()) {
            ConnectionLog log = ch.pipeline().get(ConnectionLog.class);
            if (log != null) {
                asked.add(ch.eventLoop().submit(log::info));
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<ConnectionInfo> infos = new ArrayList<>();
        for (Future<ConnectionInfo> f : asked) {
            if (f.awaitUninterruptibly(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())))
                    && f.isSuccess()) {
                infos.add(f.getNow());
            }
        }
        infos.sort(java.util.Comparator.comparingLong(ConnectionInfo::id));
        return infos;
    }

    /** Closes the connection with id {@code id} at once (requests in flight are not answered); false if none has it. */
    public boolean close(long id) {
        for (Channel ch : channels.snapshot()) {
            ConnectionLog log = ch.pipeline().get(ConnectionLog.class);
            if (log != null && log.id() == id) {
                ch.close();
                return true;
            }
        }
        return false;
    }

    /** Closes every connection after its queued replies, and waits for the closes to complete. */
    public void closeAll() {
        channels.closeAll();
    }
}
