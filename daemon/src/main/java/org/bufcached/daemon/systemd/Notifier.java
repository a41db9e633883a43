package org.bufcached.daemon.systemd;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code sd_notify(3)}: state changes sent as datagrams to the service manager's
 * {@code NOTIFY_SOCKET}, and the watchdog keep-alive. Sends are synchronous, so
 * that READY=1 has left before the daemon reports itself started and STOPPING=1
 * before it exits. Without a socket (not run by systemd) every call does nothing.
 */
public final class Notifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    /** A notifier for processes not started by systemd. */
    public static final Notifier NONE = new Notifier();

    private final DomainSocketAddress target;
    private final EventLoopGroup loop;
    private final Channel channel;

    private Notifier() {
        target = null;
        loop = null;
        channel = null;
    }

    /**
     * Sends to the datagram socket at {@code socketPath}: a file name, or an
     * abstract socket name written with a leading {@code @} as systemd does.
     */
    public Notifier(String socketPath) {
        // Abstract names start with a NUL byte in the address; systemd writes it as '@'.
        target = new DomainSocketAddress(socketPath.startsWith("@") ? "\0" + socketPath.substring(1) : socketPath);
        loop = new EpollEventLoopGroup(1, new DefaultThreadFactory("sd-notify", true));
        channel = new Bootstrap().group(loop).channel(EpollDomainDatagramChannel.class)
                // Unconnected and unbound: sendto(2) needs neither, but Netty writes only on active channels.
                .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                .handler(new ChannelInboundHandlerAdapter())
                .register().syncUninterruptibly().channel();
    }

    /** The service manager's notifier if {@code NOTIFY_SOCKET} is set, else {@link #NONE}. */
    public static Notifier fromEnvironment(Map<String, String> env) {
        String socket = env.get("NOTIFY_SOCKET");
        return socket == null || socket.isEmpty() ? NONE : new Notifier(socket);
    }

    public boolean enabled() {
        return channel != null;
    }

    /** Startup finished, or a reload did: listeners bound, exports open. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + status);
    }

    /**
     * A reload began. MONOTONIC_USEC lets Type=notify-reload services match the
     * reload to the request; System.nanoTime is CLOCK_MONOTONIC on Linux.
     */
    public void reloading(String status) {
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000 + "\nSTATUS=" + status);
    }

    public void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + status);
    }

    public void status(String status) {
        send("STATUS=" + status);
    }

    /**
     * Sends WATCHDOG=1 every {@code interval}: systemd restarts the service if
     * they stop. The pings come from this notifier's own thread.
     */
    public void startWatchdog(Duration interval) {
        if (channel == null) {
            return;
        }
        long micros = interval.toNanos() / 1000;
        loop.scheduleAtFixedRate(() -> send("WATCHDOG=1"), 0, micros, TimeUnit.MICROSECONDS);
    }

    private void send(String state) {
        if (channel == null) {
            return;
        }
        var packet = new DomainDatagramPacket(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8), target);
        // Called from the notifier's own loop (watchdog) too, where waiting would deadlock.
        if (loop.next().inEventLoop()) {
            channel.writeAndFlush(packet).addListener(f -> logFailure(state, f.cause()));
            return;
        }
        var sent = channel.writeAndFlush(packet).awaitUninterruptibly();
        logFailure(state, sent.cause());
    }

    private static void logFailure(String state, Throwable cause) {
        if (cause != null) {
            LOG.warn("sd_notify {} failed: {}", state.replace('\n', ' '), cause.toString());
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
