package org.bufcached.client.kernel;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import org.bufcached.client.BlockingHandshake;
import org.bufcached.client.NbdUri;
import org.bufcached.client.sys.Libc;

/**
 * A plain blocking socket made with socket()/connect(), because the kernel wants a
 * file descriptor it can own, not a JDK channel.
 */
public final class FdSocket implements BlockingHandshake.Stream, AutoCloseable {
    private final int fd;

    private FdSocket(int fd) {
        this.fd = fd;
    }

    public static FdSocket connect(NbdUri uri) throws IOException {
        Libc c = Libc.Holder.get();
        byte[] address = uri.isUnix() ? unixAddress(uri.socketPath()) : inetAddress(uri.host(), uri.port());
        int fd = c.socket(uri.isUnix() ? Libc.AF_UNIX : Libc.AF_INET, Libc.SOCK_STREAM, 0);
        if (fd < 0) {
            throw new IOException("socket: " + c.strerror(Libc.Holder.errno()));
        }
        if (c.connect(fd, address, address.length) < 0) {
            String error = c.strerror(Libc.Holder.errno());
            c.close(fd);
            throw new IOException("cannot connect to " + uri + ": " + error);
        }
        return new FdSocket(fd);
    }

    /** struct sockaddr_un: family (host order), then the NUL-terminated path. */
    private static byte[] unixAddress(String path) throws IOException {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length >= 108) {
            throw new IOException("socket path too long: " + path);
        }
        byte[] a = new byte[110];
        a[0] = (byte) Libc.AF_UNIX;
        System.arraycopy(p, 0, a, 2, p.length);
        return a;
    }

    /** struct sockaddr_in: family (host order), port and address (network order). */
    private static byte[] inetAddress(String host, int port) throws IOException {
        byte[] ip = InetAddress.getByName(host).getAddress();
        if (ip.length != 4) {
            throw new IOException("attach supports IPv4 addresses only: " + host);
        }
        byte[] a = new byte[16];
        a[0] = (byte) Libc.AF_INET;
        a[2] = (byte) (port >> 8);
        a[3] = (byte) port;
        System.arraycopy(ip, 0, a, 4, 4);
        return a;
    }

    public int fd() {
        return fd;
    }

    @Override
    public int read(byte[] buf) throws IOException {
        long n = Libc.Holder.get().read(fd, buf, buf.length);
        if (n < 0) {
            throw new IOException("read: " + Libc.Holder.get().strerror(Libc.Holder.errno()));
        }
        return n == 0 ? -1 : (int) n;
    }

    @Override
    public void write(byte[] buf) throws IOException {
        long n = Libc.Holder.get().write(fd, buf, buf.length);
        if (n != buf.length) {
            throw new IOException("write: " + (n < 0 ? Libc.Holder.get().strerror(Libc.Holder.errno()) : "short write"));
        }
    }

    @Override
    public void close() {
        Libc.Holder.get().close(fd);
    }
}
