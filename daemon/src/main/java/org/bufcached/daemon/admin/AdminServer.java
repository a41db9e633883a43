package org.bufcached.daemon.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.ListenUnix;
import org.bufcached.daemon.UnixSocketPermissions;
import org.bufcached.daemon.export.ExportRegistry;
import org.bufcached.daemon.io.IoEngine;
import org.bufcached.daemon.net.Connections;
import org.bufcached.daemon.reload.Reloader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin socket: its own event loop and one thread for the actions, so
 * neither NBD traffic nor a slow action delays the other. The socket is bound
 * under a temporary name, given its mode and owner, then renamed into place, so
 * it is never reachable with looser permissions than configured.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("org.bufcached.daemon.admin");
    /** Requests are small JSON documents; anything bigger is refused by the codec. */
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final EventLoopGroup loop;
    private final ExecutorService actions;
    private final Channel listener;
    private final Path path;

    private AdminServer(EventLoopGroup loop, ExecutorService actions, Channel listener, Path path) {
        this.loop = loop;
        this.actions = actions;
        this.listener = listener;
        this.path = path;
    }

    /** Binds {@code socket}; fails with a message naming it. */
    public static AdminServer start(IoEngine engine, ListenUnix socket, ExportRegistry exports,
                                    Connections connections, Reloader reloader) throws IOException {
        AdminApi api = new AdminApi(exports, connections, reloader);
        EventLoopGroup loop = engine.newGroup(1, new DefaultThreadFactory("admin-http", true));
        ExecutorService actions = Executors.newSingleThreadExecutor(new DefaultThreadFactory("bufcached-admin", true));
        ServerBootstrap b = new ServerBootstrap()
                .group(loop)
                .channel(engine.unixServerChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new AdminHttpHandler(api, actions));
                    }
                });
        Path path = socket.path().toAbsolutePath();
        Path temporary = path.resolveSibling(path.getFileName() + ".new");
        try {
            Files.createDirectories(path.getParent());
            Files.deleteIfExists(temporary);
            Channel listener = b.bind(new DomainSocketAddress(temporary.toString())).syncUninterruptibly().channel();
            UnixSocketPermissions.apply(new ListenUnix(temporary, socket.mode(), socket.user(), socket.group()));
            Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.info("admin socket on {} ({})", path, socket);
            return new AdminServer(loop, actions, listener, path);
        } catch (Exception e) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            actions.shutdownNow();
            throw new IOException("cannot listen on admin socket " + path + ": " + e.getMessage()
                    + " (check the directory and admin.path, or --admin-socket PATH|off)", e);
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        actions.shutdownNow();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove the admin socket {}: {}", path, e.getMessage());
        }
    }
}
