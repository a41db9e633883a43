package org.bufcached.daemon.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.bufcached.config.HostPort;
import org.bufcached.daemon.io.IoEngine;
import org.bufcached.daemon.net.BindErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint for Prometheus and health checks, on an event loop of its
 * own so that a slow scrape never delays NBD traffic, and NBD load never makes
 * the health checks time out.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    /** Requests are GETs without bodies; anything bigger is not a scraper. */
    private static final int MAX_REQUEST_BYTES = 16 * 1024;

    private final EventLoopGroup loop;
    private final Channel listener;

    private MetricsServer(EventLoopGroup loop, Channel listener) {
        this.loop = loop;
        this.listener = listener;
    }

    /**
     * Listens on {@code address}; fails with a message naming the address when it
     * cannot (typically: port in use).
     */
    public static MetricsServer start(IoEngine engine, HostPort address, PrometheusMeterRegistry registry,
                                      Readiness ready) throws IOException {
        EventLoopGroup loop = engine.newGroup(1, new DefaultThreadFactory("metrics-http", true));
        ServerBootstrap b = new ServerBootstrap()
                .group(loop)
                .channel(engine.tcpServerChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new MetricsHttpHandler(registry, ready));
                    }
                });
        try {
            Channel listener = b.bind(address.toSocketAddress()).syncUninterruptibly().channel();
            LOG.info("metrics on http://{}/metrics", address);
            return new MetricsServer(loop, listener);
        } catch (Exception e) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException(BindErrors.explain("metrics http " + address,
                    "--metrics HOST:PORT|off or metrics.listen", e), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
