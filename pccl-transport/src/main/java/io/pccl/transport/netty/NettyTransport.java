package io.pccl.transport.netty;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * Chooses the native epoll transport when it loads and NIO otherwise, and creates matching event-loop groups
 * and channel classes. Setting the system property {@code pccl.transport.nio=true} forces NIO.
 *
 * <p>Thread-safe (stateless after class initialisation).
 */
public final class NettyTransport {
    private static final boolean USE_EPOLL = !Boolean.getBoolean("pccl.transport.nio") && Epoll.isAvailable();

    private NettyTransport() {
    }

    /**
     * Whether the native epoll transport is in use.
     *
     * @return true for epoll, false for NIO
     */
    public static boolean isEpoll() {
        return USE_EPOLL;
    }

    /**
     * Creates an event-loop group of the selected transport with daemon threads.
     *
     * @param threads number of event loops, {@code >= 1}
     * @param namePrefix thread name prefix
     * @return a new group; the caller owns it and must shut it down
     */
    public static EventLoopGroup newEventLoopGroup(final int threads, final String namePrefix) {
        final IoHandlerFactory factory = USE_EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(namePrefix, true), factory);
    }

    /**
     * Server channel class matching {@link #newEventLoopGroup}.
     *
     * @return the server socket channel class
     */
    public static Class<? extends ServerSocketChannel> serverChannelClass() {
        return USE_EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /**
     * Client channel class matching {@link #newEventLoopGroup}.
     *
     * @return the socket channel class
     */
    public static Class<? extends SocketChannel> channelClass() {
        return USE_EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /**
     * Short name of the selected transport, for logs.
     *
     * @return "epoll" or "nio"
     */
    public static String name() {
        return USE_EPOLL ? "epoll" : "nio";
    }
}
