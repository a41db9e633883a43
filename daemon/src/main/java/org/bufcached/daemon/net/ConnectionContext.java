package org.bufcached.daemon.net;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.channel.uring.IoUringDomainSocketChannel;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import net.logstash.logback.argument.StructuredArgument;
import org.bufcached.protocol.NbdError;

/**
 * Who a connection is, for every log line about it: an id unique in this
 * process, the peer ({@code 127.0.0.1:40312}, {@code [::1]:40312}, or
 * {@code unix:pid=4242,uid=1000} from SO_PEERCRED), and the export once the
 * handshake chose one. As a log argument it reads {@code conn=17 peer=...
 * export=disk} in text and gives the fields {@code conn}, {@code peer} and
 * {@code export} in JSON. It also counts the connection's requests and errors
 * for the closing line.
 *
 * <p>The export and the counters are written on the connection's event loop
 * only; the export is volatile because a line may be logged from elsewhere.
 */
public final class ConnectionContext implements StructuredArgument {
    private static final AtomicLong IDS = new AtomicLong();

    private final long id;
    private final String peer;
    private volatile String export;
    /** Who the client proved to be over TLS, or null; for the admin socket's list of connections. */
    private volatile String identity;
    private long requests;
    private long errors;

    ConnectionContext(long id, String peer) {
        this.id = id;
        this.peer = peer;
    }

    /** A new id and the peer of {@code channel}, as it is accepted. */
    static ConnectionContext accepted(Channel channel) {
        return new ConnectionContext(IDS.incrementAndGet(), describePeer(channel));
    }

    /** {@code host:port} without the JDK's leading slash, IPv6 in brackets; unix peers by pid and uid. */
    public static String describePeer(Channel channel) {
        if (channel.remoteAddress() instanceof InetSocketAddress) {
            InetSocketAddress a = (InetSocketAddress) channel.remoteAddress();
            String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
        }
        try {
            PeerCredentials c = channel instanceof EpollDomainSocketChannel
                    ? ((EpollDomainSocketChannel) channel).peerCredentials()
                    : channel instanceof IoUringDomainSocketChannel
                    ? ((IoUringDomainSocketChannel) channel).peerCredentials() : null;
            return c == null ? "unix" : "unix:pid=" + c.pid() + ",uid=" + c.uid();
        } catch (IOException e) {
            return "unix";
        }
    }

    public long id() {
        return id;
    }

    public String peer() {
        return peer;
    }

    /** The export, or null before the handshake chose one. */
    public String export() {
        return export;
    }

    void export(String name) {
        export = name;
    }

    /** The TLS identity, or null without TLS. */
    public String identity() {
        return identity;
    }

    void identity(String who) {
        identity = who;
    }

    /** Counts an answered request (on the event loop). */
    void answered(NbdError error) {
        requests++;
        if (error != null) {
            errors++;
        }
    }

    long requests() {
        return requests;
    }

    long errors() {
        return errors;
    }

    @Override
    public void writeTo(JsonGenerator generator) throws IOException {
        generator.writeNumberField("conn", id);
        generator.writeStringField("peer", peer);
        String e = export;
        if (e != null) {
            generator.writeStringField("export", e);
        }
    }

    @Override
    public String toString() {
        String e = export;
        return "conn=" + id + " peer=" + peer + (e == null ? "" : " export=" + quoted(e));
    }

    /** Export names may hold spaces or '=': quoted then, so the text line still splits into fields. */
    private static String quoted(String name) {
        boolean plain = !name.isEmpty() && name.chars().noneMatch(c -> c <= ' ' || c == '"' || c == '=');
        return plain ? name : '"' + name.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
