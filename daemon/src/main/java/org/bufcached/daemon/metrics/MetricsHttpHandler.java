package org.bufcached.daemon.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The three endpoints: {@code /metrics} (Prometheus text format 0.0.4),
 * {@code /healthz} (200 while the process runs) and {@code /readyz} (200 once the
 * listeners are bound and the exports open, 503 before that, while stopping, and
 * while an export has data in doubt after an I/O error; {@code /readyz?export=NAME}
 * for one export), each 503 with its reasons in the body.
 */
final class MetricsHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String PLAIN_TEXT = "text/plain; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final Readiness ready;

    MetricsHttpHandler(PrometheusMeterRegistry registry, Readiness ready) {
        this.registry = registry;
        this.ready = ready;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean head = request.method().equals(HttpMethod.HEAD);
        FullHttpResponse response;
        if (!request.decoderResult().isSuccess()) {
            response = text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
        } else if (!head && !request.method().equals(HttpMethod.GET)) {
            response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        } else {
            response = route(new QueryStringDecoder(request.uri()));
        }
        if (head) {
            // HEAD answers with the headers GET would have, Content-Length included, and no body.
            FullHttpResponse withBody = response;
            response = withBody.replace(Unpooled.EMPTY_BUFFER);
            withBody.release();
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
        HttpUtil.setKeepAlive(response, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private FullHttpResponse route(QueryStringDecoder uri) {
        switch (uri.path()) {
            case "/metrics":
                return response(HttpResponseStatus.OK, PROMETHEUS_TEXT, registry.scrape());
            case "/healthz":
                return text(HttpResponseStatus.OK, "ok\n");
            case "/readyz":
                return readiness(uri.parameters().getOrDefault("export", java.util.List.of()));
            default:
                return text(HttpResponseStatus.NOT_FOUND, "not found; try /metrics, /healthz or /readyz\n");
        }
    }

    private FullHttpResponse readiness(java.util.List<String> export) {
        String name = export.isEmpty() ? null : export.get(0);
        java.util.List<String> reasons = ready.notReady(name);
        if (reasons == null) {
            return text(HttpResponseStatus.NOT_FOUND, "no export named '" + name + "'\n");
        }
        if (reasons.isEmpty()) {
            return text(HttpResponseStatus.OK, "ready\n");
        }
        return text(HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n" + String.join("\n", reasons) + "\n");
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
        return response(status, PLAIN_TEXT, body);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, String body) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setContentLength(response, content.readableBytes());
        return response;
    }
}
