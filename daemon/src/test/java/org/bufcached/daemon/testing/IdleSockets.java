package org.bufcached.daemon.testing;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Connections that connect and then never say a word, as a flood of port
 * scanners or a hostile client opens them. Each one ends up either refused (the
 * server closed it without sending anything) or greeted (it received the 18
 * bytes of the newstyle greeting and sits in the handshake).
 */
public final class IdleSockets implements AutoCloseable {
    private static final int GREETING = 18;

    private final List<SocketChannel> sockets = new ArrayList<>();
    private final List<ByteBuffer> received = new ArrayList<>();
    private final boolean[] closedByServer;

    private IdleSockets(int n) {
        closedByServer = new boolean[n];
    }

    /** Opens {@code n} connections to {@code address}, one after the other. */
    public static IdleSockets open(SocketAddress address, int n) throws IOException {
        IdleSockets flood = new IdleSockets(n);
        try {
            for (int i = 0; i < n; i++) {
                SocketChannel ch = SocketChannel.open(address);
                ch.configureBlocking(false);
                flood.sockets.add(ch);
                flood.received.add(ByteBuffer.allocate(GREETING + 1));
            }
        } catch (IOException e) {
            flood.close();
            throw e;
        }
        return flood;
    }

    /**
     * Reads what has arrived on every socket without waiting; true once each one
     * has been closed by the server or has its whole greeting.
     */
    public boolean settled() throws IOException {
        boolean all = true;
        for (int i = 0; i < sockets.size(); i++) {
            ByteBuffer b = received.get(i);
            if (!closedByServer[i]) {
                try {
                    closedByServer[i] = sockets.get(i).read(b) < 0;
                } catch (IOException reset) {
                    closedByServer[i] = true;
                }
            }
            all &= closedByServer[i] || b.position() >= GREETING;
        }
        return all;
    }

    /** Sockets the server closed; those among them that had been greeted closed later (a timeout). */
    public int closedByServer() {
        int n = 0;
        for (boolean closed : closedByServer) {
            n += closed ? 1 : 0;
        }
        return n;
    }

    /** Sockets the server closed without sending a single byte: refused at accept. */
    public int refused() {
        int n = 0;
        for (int i = 0; i < sockets.size(); i++) {
            n += closedByServer[i] && received.get(i).position() == 0 ? 1 : 0;
        }
        return n;
    }

    /** Sockets that received the greeting and are still open. */
    public int greetedAndOpen() {
        int n = 0;
        for (int i = 0; i < sockets.size(); i++) {
            n += !closedByServer[i] && received.get(i).position() >= GREETING ? 1 : 0;
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        for (SocketChannel ch : sockets) {
            ch.close();
        }
    }
}
