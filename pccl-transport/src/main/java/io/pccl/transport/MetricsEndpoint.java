package io.pccl.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.pccl.transport.netty.NettyTransport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * A metrics endpoint, of the master or of a peer: plain HTTP, {@code GET /metrics} answers the Prometheus text
 * format (see {@link PrometheusText}) and {@code GET /healthz} answers {@code ok} (a liveness probe); anything else
 * gets 404 or 405. The text is rendered by a task on the owner's
 * executor: the master renders on its conductor thread, so a scrape sees one consistent state and the I/O loop
 * never waits for it; a peer renders on the connection's own loop, from counters. The health check runs on the same
 * executor, so a master whose conductor is stuck fails it. A request that is not answered within
 * {@link #RENDER_BOUND_MS} gets 503. Requests are bounded (8 KiB) and a connection idle for 30 s is closed,
 * so a scraper cannot hold resources of its host.
 *
 * <p>Thread-safe: immutable after {@link #bind}; each connection's handler is confined to its event loop.
 */
public final class MetricsEndpoint implements AutoCloseable {
    /** How long a scrape waits for the rendering. */
    public static final long RENDER_BOUND_MS = 2_000;
    private static final int MAX_REQUEST_BYTES = 8 * 1024;
    private static final int IDLE_SECONDS = 30;
    private static final String PLAIN = "text/plain; charset=utf-8";
    private static final Callable<String> HEALTHY = () -> "ok\n";

    private final Channel serverChannel;

    private MetricsEndpoint(final Channel serverChannel) {
        this.serverChannel = serverChannel;
    }

    /**
     * Binds the endpoint.
     *
     * @param boss the accepting loop
     * @param workers the connections' loops
     * @param host the address to bind
     * @param port the port (0: ephemeral)
     * @param renderOn runs the rendering
     * @param render renders the text (called on {@code renderOn})
     * @return the bound server
     * @throws UncheckedIOException naming the address if binding fails
     */
    public static MetricsEndpoint bind(final EventLoopGroup boss, final EventLoopGroup workers, final String host,
                                       final int port, final EventExecutor renderOn, final Callable<String> render) {
        final ChannelFuture bind = new ServerBootstrap().group(boss, workers)
                .channel(NettyTransport.serverChannelClass())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS),
                                new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                new Scrape(renderOn, render));
                    }
                }).bind(host, port);
        if (!bind.awaitUninterruptibly(10, TimeUnit.SECONDS) || !bind.isSuccess()) {
            bind.channel().close();
            final Throwable cause = bind.cause();
            throw new UncheckedIOException(new IOException("cannot bind the metrics endpoint to " + host + ":" + port
                    + ": " + (cause == null ? "timed out after 10 s" : cause.getMessage()), cause));
        }
        return new MetricsEndpoint(bind.channel());
    }

    /**
     * @return the bound address
     */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    /** Answers one connection's requests in order. Confined to its channel's event loop. */
    private static final class Scrape extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final EventExecutor renderOn;
        private final Callable<String> render;

        Scrape(final EventExecutor renderOn, final Callable<String> render) {
            this.renderOn = renderOn;
            this.render = render;
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request) {
            final boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (request.decoderResult().isFailure()) {
                respond(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request\n", PLAIN, false);
                return;
            }
            final String path = request.uri().split("\\?", 2)[0];
            final Callable<String> task;
            final String contentType;
            if ("/metrics".equals(path)) {
                task = render;
                contentType = PrometheusText.CONTENT_TYPE;
            } else if ("/healthz".equals(path)) {
                task = HEALTHY; // answered by the same executor: a wedged conductor fails the check
                contentType = PLAIN;
            } else {
                respond(ctx, HttpResponseStatus.NOT_FOUND, "not found: the metrics are at /metrics, the health check "
                        + "at /healthz\n", PLAIN, keepAlive);
                return;
            }
            if (!HttpMethod.GET.equals(request.method())) {
                respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, request.method() + " not allowed: use GET\n",
                        PLAIN, keepAlive);
                return;
            }
            ctx.channel().config().setAutoRead(false); // one request at a time per connection
            // Both the answer and the bound run on this channel's loop, and the first one answers. The bound must not
            // wait for the task's listeners: a Netty task notifies them on its own executor, the one that is stuck.
            final boolean[] answered = {false};
            final Future<String> text = renderOn.submit(task);
            final var bound = ctx.executor().schedule(() -> {
                if (!answered[0]) {
                    answered[0] = true;
                    text.cancel(false);
                    respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, path + " was not answered within "
                            + RENDER_BOUND_MS + " ms\n", PLAIN, false);
                }
            }, RENDER_BOUND_MS, TimeUnit.MILLISECONDS);
            text.addListener(f -> ctx.executor().execute(() -> {
                if (answered[0]) {
                    return;
                }
                answered[0] = true;
                bound.cancel(false);
                ctx.channel().config().setAutoRead(true);
                if (f.isSuccess()) {
                    respond(ctx, HttpResponseStatus.OK, (String) f.getNow(), contentType, keepAlive);
                } else {
                    respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, path + " failed: " + f.cause() + "\n",
                            PLAIN, false);
                }
            }));
        }

        private static void respond(final ChannelHandlerContext ctx, final HttpResponseStatus status,
                                    final String body, final String contentType, final boolean keepAlive) {
            final ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            HttpUtil.setContentLength(response, content.readableBytes());
            HttpUtil.setKeepAlive(response, keepAlive);
            final ChannelFuture written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            ctx.close(); // a malformed request or an idle scraper: nothing of the host's is at stake
        }
    }
}
