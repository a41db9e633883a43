package org.bufcached.daemon.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.bufcached.daemon.net.ConnectionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection: each request goes to the admin thread (an action may
 * sync files or wait for a reload, never on the event loop), is answered with
 * JSON and closes the connection, and is logged with who asked (SO_PEERCRED).
 */
final class AdminHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger("org.bufcached.daemon.admin");

    private final AdminApi api;
    private final Executor actions;

    AdminHttpHandler(AdminApi api, Executor actions) {
        this.api = api;
        this.actions = actions;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        String who = ConnectionContext.describePeer(ctx.channel());
        String method = request.method().name();
        String uri = request.uri();
        String body = request.content().toString(StandardCharsets.UTF_8);
        if (!request.decoderResult().isSuccess()) {
            respond(ctx, who, method, uri, AdminResponse.error(400, "malformed HTTP request"));
            return;
        }
        List<String> segments = new ArrayList<>();
        for (String s : new QueryStringDecoder(uri).path().split("/")) {
            if (!s.isEmpty()) {
                segments.add(QueryStringDecoder.decodeComponent(s));
            }
        }
        actions.execute(() -> {
            AdminResponse response;
            try {
                response = api.handle(method, segments, body);
            } catch (RuntimeException e) {
                LOG.error("admin request failed on a bug: {} {}", method, uri, e);
                response = AdminResponse.error(500, "internal error: " + e);
            }
            respond(ctx, who, method, uri, response);
        });
    }

    private void respond(ChannelHandlerContext ctx, String who, String method, String uri, AdminResponse response) {
        byte[] bytes;
        try {
            bytes = api.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(response.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            bytes = ("{\"error\": \"internal error: " + e.getOriginalMessage() + "\"}").getBytes(StandardCharsets.UTF_8);
        }
        if (response.status() >= 400) {
            LOG.warn("admin request refused peer={} method={} path={} status={} reason={}", who, method, uri,
                    response.status(), response.summary());
        } else {
            LOG.info("admin request peer={} method={} path={} status={} result={}", who, method, uri,
                    response.status(), response.summary());
        }
        FullHttpResponse http = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(response.status()), Unpooled.wrappedBuffer(bytes));
        http.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(http).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("admin connection failed: {}", cause.toString());
        ctx.close();
    }
}
