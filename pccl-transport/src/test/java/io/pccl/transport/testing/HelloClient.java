package io.pccl.transport.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.pccl.proto.Envelope;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.netty.NettyTransport;

import javax.security.auth.x500.X500Principal;
import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;

/**
 * A test client of a control-framed port: dials with a given security, sends one hello when connected, completes
 * {@link #answer} with the first envelope (then runs {@code onAnswer}) or with the failure (a refused handshake, a
 * close without an answer), and {@link #closed} when its connection closes. The connection stays open after the
 * answer.
 *
 * <p>Thread-safe: the futures and the queue are; the handler runs on the connection's event loop.
 */
public final class HelloClient {
    /** The first envelope received, or the failure. */
    public final CompletableFuture<Envelope> answer = new CompletableFuture<>();
    /** Completes when the connection closed. */
    public final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Every envelope received, in order. */
    public final BlockingQueue<Envelope> received = new LinkedBlockingQueue<>();
    /** The connection. */
    public final Channel channel;

    /**
     * Dials {@code host:port}.
     *
     * @param group runs the connection
     * @param security the dialer's handshakes
     * @param host the address
     * @param port the port
     * @param handshakeNs the TLS handshake's bound
     * @param hello sent once connected (the handshakes hold it until they are done)
     * @param expectedSubject the subject the other side's certificate must have, or null for any trusted one
     * @param onAnswer runs on the event loop with the first envelope
     */
    public HelloClient(final EventLoopGroup group, final ConnectionSecurity security, final String host,
                       final int port, final long handshakeNs, final Envelope hello,
                       final X500Principal expectedSubject,
                       final BiConsumer<ChannelHandlerContext, Envelope> onAnswer) {
        channel = new Bootstrap().group(group).channel(NettyTransport.channelClass())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel ch) {
                        ControlPipeline.install(ch.pipeline());
                        ch.pipeline().addLast(new SimpleChannelInboundHandler<Envelope>() {
                            @Override
                            public void channelActive(final ChannelHandlerContext ctx) {
                                ctx.writeAndFlush(hello);
                                ctx.fireChannelActive();
                            }

                            @Override
                            protected void channelRead0(final ChannelHandlerContext ctx, final Envelope e) {
                                received.add(e);
                                if (answer.complete(e)) {
                                    onAnswer.accept(ctx, e);
                                }
                            }

                            @Override
                            public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
                                answer.completeExceptionally(cause);
                                ctx.close();
                            }

                            @Override
                            public void channelInactive(final ChannelHandlerContext ctx) {
                                answer.completeExceptionally(new IOException("closed without an answer"));
                                closed.complete(null);
                            }
                        });
                        security.installDialer(ch.pipeline(), "test server", handshakeNs, expectedSubject);
                    }
                }).connect(host, port).addListener(f -> {
                    if (!f.isSuccess()) {
                        answer.completeExceptionally(f.cause());
                    }
                }).channel();
    }
}
