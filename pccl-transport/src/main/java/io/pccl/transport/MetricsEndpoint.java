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
 * format (see {@link PrometheusText}); anything else gets 404 or 405. The text is rendered by a task on the owner's
 * executor: the master renders on its conductor thread, so a scrape sees one consistent state and the I/O loop
 * never waits for it; a peer renders on the connection's own loop, from counters. A scrape that is not answered
 * within {@link #RENDER_BOUND_MS} gets 503. Requests are bounded (8 KiB) and a connection idle for 30 s is closed,
 * so a scraper cannot hold resources of its host.
 *
 * <p>Thread-safe: immutable after {@link #bind}; each connection's handler is confined to its event loop.
 */
public final class MetricsEndpoint implements AutoCloseable {
    /** How long a scrape waits for the rendering. */
    public static final long RENDER_BOUND_MS = 2_000;
    private static final int MAX_REQUEST_BYTES = 8 * 1024;
    private static final int IDLE_SECONDS = 30;

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
                respond(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request\n", false);
                return;
            }
            final String path = request.uri().split("\\?", 2)[0];
            if (!"/metrics".equals(path)) {
                respond(ctx, HttpResponseStatus.NOT_FOUND, "not found: the metrics are at /metrics\n", keepAlive);
                return;
            }
            if (!HttpMethod.GET.equals(request.method())) {
                respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, request.method() + " not allowed: use GET\n",
                        keepAlive);
                return;
            }
            ctx.channel().config().setAutoRead(false); // one scrape at a time per connection
            final Future<String> text = renderOn.submit(render);
            final var bound = ctx.executor().schedule(() -> text.cancel(false), RENDER_BOUND_MS,
                    TimeUnit.MILLISECONDS);
            text.addListener(f -> ctx.executor().execute(() -> {
                bound.cancel(false);
                ctx.channel().config().setAutoRead(true);
                if (f.isSuccess()) {
                    respond(ctx, HttpResponseStatus.OK, (String) f.getNow(), keepAlive);
                } else {
                    respond(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "the metrics were not rendered within "
                            + RENDER_BOUND_MS + " ms: " + f.cause() + "\n", false);
                }
            }));
        }

        private static void respond(final ChannelHandlerContext ctx, final HttpResponseStatus status,
                                    final String body, final boolean keepAlive) {
            final ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE,
                    status == HttpResponseStatus.OK ? PrometheusText.CONTENT_TYPE : "text/plain; charset=utf-8");
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
