package io.pccl.state.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.buffer.Unpooled;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.SharedState;
import io.pccl.SharedStateSyncException;
import io.pccl.hash.HashType;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.SharedStateFetchResponse;
import io.pccl.testing.ByteBufLeakWatch;
import io.pccl.transport.Envelopes;
import io.pccl.transport.testing.RandomEnvelopes;
import io.pccl.transport.netty.ControlPipeline;
import io.pccl.transport.netty.NettyTransport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Distributor and fetcher over loopback TCP (port 0), without a master. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedStateTransferTest {
    private static final long SEED = 7;
    private static final int BIG = 64 * 1024 * 1024;

    private EventLoopGroup group;
    private ExecutorService executor;
    private final List<Channel> servers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        group = NettyTransport.newEventLoopGroup(2, "sst");
        executor = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        for (final Channel c : servers) {
            c.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        executor.shutdown();
        assertTrue(executor.awaitTermination(5, TimeUnit.SECONDS));
    }

    /** A minimal peer listener: validates the hello, then hands ROLE_SHARED_STATE channels to the server. */
    private InetSocketAddress listen(final SharedStateServer server) {
        return bind(ch -> {
            ControlPipeline.install(ch.pipeline());
            ch.pipeline().addLast(new SimpleChannelInboundHandler<Envelope>() {
                @Override
                protected void channelRead0(final ChannelHandlerContext ctx, final Envelope env) {
                    assertEquals(null, Envelopes.checkHello(env, ConnectionRole.ROLE_SHARED_STATE));
                    ctx.pipeline().remove(this);
                    server.onAccepted(env.getHello(), ctx.channel());
                }
            });
        });
    }

    private InetSocketAddress bind(final Consumer<Channel> init) {
        final Channel ch = new ServerBootstrap().group(group).channel(NettyTransport.serverChannelClass())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel c) {
                        init.accept(c);
                    }
                }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly().channel();
        servers.add(ch);
        return (InetSocketAddress) ch.localAddress();
    }

    private SharedStateFetcher fetcher(final Duration progressTimeout) {
        return new SharedStateFetcher(group, 2, executor, Duration.ofSeconds(5), progressTimeout);
    }

    private static SharedStateSyncException failure(final CompletableFuture<FetchResult> f) {
        final ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
        final SharedStateSyncException s = assertInstanceOf(SharedStateSyncException.class, e.getCause());
        assertTrue(s.isRetryable(), s.toString());
        return s;
    }

    @Test
    void transfers64MiBAndTypedArraysVerified() throws Exception {
        System.out.println("seed " + SEED);
        final Random rnd = new Random(SEED);
        final ByteBuffer src = ByteBuffer.allocateDirect(BIG + 3);
        final byte[] chunk = new byte[1 << 20];
        src.position(3);
        while (src.hasRemaining()) {
            rnd.nextBytes(chunk);
            src.put(chunk, 0, Math.min(chunk.length, src.remaining()));
        }
        src.position(3);
        final float[] weights = new float[100_003];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = rnd.nextFloat();
        }
        final long[] longs = {1, -2, Long.MIN_VALUE};
        final SharedState theirs = SharedState.builder().revision(5).entry("big", src, DataType.UINT8, BIG)
                .entry("w", weights).entry("l", longs, DataType.INT64, 3).entry("same", new byte[16],
                        DataType.UINT8, 16).entry("empty", new int[0], DataType.INT32, 0, false).build();
        final ByteBuffer dst = ByteBuffer.allocate(BIG);
        final float[] myWeights = new float[weights.length];
        final long[] myLongs = new long[3];
        final SharedState mine = SharedState.builder().revision(4).entry("big", dst, DataType.UINT8, BIG)
                .entry("w", myWeights).entry("l", myLongs, DataType.INT64, 3).entry("same", new byte[16],
                        DataType.UINT8, 16).entry("empty", new int[0], DataType.INT32, 0, false).build();
        final SharedStateServer server = new SharedStateServer(() -> 1, Duration.ofSeconds(10));
        server.serve(theirs);
        final InetSocketAddress addr = listen(server);
        final List<FetchKey> keys = new ArrayList<>();
        for (final String k : List.of("big", "w", "l", "empty")) {
            keys.add(new FetchKey(k, theirs.entry(k).hash(HashType.SIMPLE), HashType.SIMPLE, true));
        }
        final long t0 = System.nanoTime();
        final FetchResult r = fetcher(Duration.ofSeconds(10)).fetch(addr, mine, keys).get(30, TimeUnit.SECONDS);
        System.out.printf("fetched %d bytes incl. connect and verification in %.1f ms%n", r.rxBytes(),
                (System.nanoTime() - t0) / 1e6);
        final long total = BIG + 4L * weights.length + 24;
        assertEquals(total, r.rxBytes());
        assertEquals(5, r.revision());
        assertEquals(List.of("big", "w", "l", "empty"), r.keys());
        assertEquals(0, src.slice().compareTo(dst.duplicate().clear()), "64 MiB content");
        assertTrue(java.util.Arrays.equals(weights, myWeights), "float[] content");
        assertTrue(java.util.Arrays.equals(longs, myLongs), "long[] content");
        assertEquals(total, server.takeTxBytes());
        assertEquals(0, server.takeTxBytes());
    }

    @Test
    void unknownKeyAndNotServingAreClearErrors() throws Exception {
        final SharedState theirs = SharedState.builder().entry("a", new byte[8], DataType.UINT8, 8).build();
        final SharedState mine = SharedState.builder().entry("a", new byte[8], DataType.UINT8, 8)
                .entry("ghost", new byte[8], DataType.UINT8, 8).build();
        final SharedStateServer server = new SharedStateServer(() -> 1, Duration.ofSeconds(10));
        final InetSocketAddress addr = listen(server);
        final List<FetchKey> ghost = List.of(new FetchKey("ghost", 0, HashType.SIMPLE, true));
        final String notServing = failure(fetcher(Duration.ofSeconds(5)).fetch(addr, mine, ghost)).getMessage();
        assertTrue(notServing.contains("not distributing"), notServing);
        server.serve(theirs);
        final String unknown = failure(fetcher(Duration.ofSeconds(5)).fetch(addr, mine, ghost)).getMessage();
        assertTrue(unknown.contains("unknown shared-state key 'ghost'") && unknown.contains("[a]"), unknown);
        final PcclException local = assertThrows(PcclException.class, () -> fetcher(Duration.ofSeconds(5))
                .fetch(addr, theirs, ghost));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, local.code());
    }

    @Test
    void hashMismatchFailsRetryably() {
        final byte[] content = {1, 2, 3, 4, 5};
        final SharedState theirs = SharedState.builder().entry("a", content, DataType.UINT8, 5).build();
        final SharedState mine = SharedState.builder().entry("a", new byte[5], DataType.UINT8, 5).build();
        final SharedStateServer server = new SharedStateServer(() -> 1, Duration.ofSeconds(10));
        server.serve(theirs);
        final long wrong = theirs.entry("a").hash(HashType.CRC32C) ^ 1;
        final String msg = failure(fetcher(Duration.ofSeconds(5)).fetch(listen(server), mine,
                List.of(new FetchKey("a", wrong, HashType.CRC32C, true)))).getMessage();
        assertTrue(msg.contains("hash mismatch for key 'a'"), msg);
    }

    /** A fake distributor that announces {@code announced} bytes, sends {@code sent}, then closes if asked. */
    private InetSocketAddress fakeDistributor(final long announced, final int sent, final boolean close) {
        final Envelope response = Envelope.newBuilder().setSharedStateFetchResponse(SharedStateFetchResponse
                .newBuilder().setOk(true).setRevision(1).addKeys("a").addSizesBytes(announced)).build();
        return scriptedDistributor(ctx -> respondRaw(ctx, response, new byte[sent], close));
    }

    /**
     * A distributor that acknowledges the hello and hands the fetch request's context to {@code onRequest}. A reset
     * from the fetcher (it gives up on a connection while bytes are unread) closes it quietly.
     */
    private InetSocketAddress scriptedDistributor(final Consumer<ChannelHandlerContext> onRequest) {
        return bind(ch -> {
            ControlPipeline.install(ch.pipeline());
            ch.pipeline().addLast(new SimpleChannelInboundHandler<Envelope>() {
                @Override
                protected void channelRead0(final ChannelHandlerContext ctx, final Envelope env) {
                    if (env.hasHello()) {
                        ctx.writeAndFlush(Envelopes.helloAck(1));
                        return;
                    }
                    onRequest.accept(ctx);
                }

                @Override
                public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
                    ctx.close();
                }
            });
        });
    }

    /**
     * Switches the connection to raw writes, as a distributor does after its response, and writes {@code response}
     * as a frame (none if null), then {@code bytes}; closes afterwards if asked.
     */
    private static void respondRaw(final ChannelHandlerContext ctx, final Envelope response, final byte[] bytes,
                                   final boolean close) {
        ctx.pipeline().remove(ControlPipeline.FRAME_ENCODER);
        ctx.pipeline().remove(ControlPipeline.PROTOBUF_ENCODER);
        if (response != null) {
            ctx.write(Frames.encode(ctx.alloc(), response));
        }
        final var f = ctx.writeAndFlush(Unpooled.wrappedBuffer(bytes));
        if (close) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * A distributor that answers a fetch with seeded random input: a response with random fields (flags, keys, sizes
     * up to 2^64 - 1, codes) followed by random bytes, a control message of another kind, bytes that are not a frame,
     * silence, or a close. Every fetch must fail within its bound with a retryable {@link SharedStateSyncException},
     * and no buffer may leak.
     */
    @Test
    void hostileDistributorsFailTheFetchRetryablyWithinItsBound() throws Exception {
        final long seed = SEED + 1000;
        System.out.println("SharedStateTransferTest hostile distributors, seed " + seed);
        final Random rnd = new Random(seed);
        final byte[] truth = new byte[4096];
        new Random(seed + 1).nextBytes(truth);
        final long hash = SharedState.builder().entry("a", truth.clone(), DataType.UINT8, truth.length).build()
                .entry("a").hash(HashType.SIMPLE);
        try (ByteBufLeakWatch watch = new ByteBufLeakWatch()) {
            for (int round = 0; round < 40; round++) {
                final SharedState mine = SharedState.builder()
                        .entry("a", new byte[truth.length], DataType.UINT8, truth.length)
                        .entry("b", new byte[64], DataType.UINT8, 64).build();
                final long start = System.nanoTime();
                final SharedStateSyncException e = failure(fetcher(Duration.ofMillis(300))
                        .fetch(hostileDistributor(rnd, round % 5), mine,
                                List.of(new FetchKey("a", hash, HashType.SIMPLE, true))));
                assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "round " + round);
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "round " + round + ": " + e);
            }
            final List<String> leaks = watch.leaks();
            assertTrue(leaks.isEmpty(), () -> leaks.size() + " buffers leaked, the first: " + leaks.get(0));
        }
    }

    /** A distributor that acknowledges the hello, then answers the fetch request with one kind of hostile input. */
    private InetSocketAddress hostileDistributor(final Random rnd, final int kind) {
        // Drawn here, on the test thread, so that the seed alone decides what is sent.
        final SharedStateFetchResponse answer = randomResponse(rnd);
        final Envelope response = Envelope.newBuilder().setSharedStateFetchResponse(answer).build();
        // Half of the plausible answers ("a", 4096 bytes) are followed by exactly that many wrong bytes.
        final boolean exact = answer.getOk() && answer.getSizesBytesCount() == 1 && answer.getSizesBytes(0) == 4096
                && rnd.nextBoolean();
        final byte[] tail = RandomEnvelopes.bytes(rnd, exact ? 4096 : rnd.nextInt(8192));
        final boolean closeAfter = rnd.nextBoolean();
        final Envelope other = RandomEnvelopes.envelope(rnd, new int[] {0});
        return scriptedDistributor(ctx -> {
            switch (kind) {
                case 0: // a random response, then random bytes
                    respondRaw(ctx, response, tail, closeAfter);
                    break;
                case 1: // a control message of another kind
                    ctx.writeAndFlush(other);
                    break;
                case 2: // bytes that are not a frame
                    respondRaw(ctx, null, tail, false);
                    break;
                case 3: // silence: the progress timeout ends the fetch
                    break;
                default:
                    ctx.close();
                    break;
            }
        });
    }

    /** Half the time plausible (ok, key "a" with a random size), otherwise every field random. */
    private static SharedStateFetchResponse randomResponse(final Random rnd) {
        final long[] sizes = {0, 4096, 4095, 4097, 64, 1L << 31, Long.MAX_VALUE, -1};
        if (rnd.nextBoolean()) {
            return SharedStateFetchResponse.newBuilder().setOk(true).setRevision(1).addKeys("a")
                    .addSizesBytes(rnd.nextBoolean() ? 4096 : sizes[rnd.nextInt(sizes.length)]).build();
        }
        final SharedStateFetchResponse.Builder r = SharedStateFetchResponse.newBuilder().setOk(rnd.nextInt(4) != 0)
                .setRevision(rnd.nextInt(3));
        final String[] keys = {"a", "b", "zz", ""};
        final int n = rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            r.addKeys(keys[rnd.nextInt(keys.length)]);
        }
        final int m = rnd.nextBoolean() ? n : rnd.nextInt(4);
        for (int i = 0; i < m; i++) {
            r.addSizesBytes(sizes[rnd.nextInt(sizes.length)]);
        }
        if (rnd.nextBoolean()) {
            r.setCodeValue(rnd.nextInt(20)).setReason("hostile " + rnd.nextInt(1000));
        }
        return r.build();
    }

    @Test
    void distributorLostMidTransferFailsWithinBoundedTime() {
        final SharedState mine = SharedState.builder().entry("a", new byte[1 << 20], DataType.UINT8, 1 << 20)
                .build();
        final long start = System.nanoTime();
        final String msg = failure(fetcher(Duration.ofSeconds(30)).fetch(fakeDistributor(1 << 20, 1000, true), mine,
                List.of(new FetchKey("a", 0, HashType.SIMPLE, true)))).getMessage();
        assertTrue(msg.contains("closed the connection") && msg.contains("1000 of 1048576"), msg);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "failed promptly on close");
    }

    @Test
    void stalledDistributorFailsAfterProgressTimeout() {
        final SharedState mine = SharedState.builder().entry("a", new byte[1 << 20], DataType.UINT8, 1 << 20)
                .build();
        final String msg = failure(fetcher(Duration.ofMillis(300)).fetch(fakeDistributor(1 << 20, 1000, false),
                mine, List.of(new FetchKey("a", 0, HashType.SIMPLE, true)))).getMessage();
        assertTrue(msg.contains("no progress"), msg);
    }

    @Test
    void sizeMismatchIsRejectedBeforeWriting() {
        final byte[] local = new byte[64];
        final SharedState mine = SharedState.builder().entry("a", local, DataType.UINT8, 64).build();
        final String msg = failure(fetcher(Duration.ofSeconds(5)).fetch(fakeDistributor(128, 128, false), mine,
                List.of(new FetchKey("a", 0, HashType.SIMPLE, true)))).getMessage();
        assertTrue(msg.contains("128 bytes") && msg.contains("64 bytes"), msg);
    }

    @Test
    void fetchFromAnyFailsOverToTheNextDistributor() throws Exception {
        final byte[] content = {9, 8, 7, 6};
        final SharedState theirs = SharedState.builder().revision(3).entry("a", content, DataType.UINT8, 4).build();
        final byte[] local = new byte[4];
        final SharedState mine = SharedState.builder().entry("a", local, DataType.UINT8, 4).build();
        final SharedStateServer good = new SharedStateServer(() -> 1, Duration.ofSeconds(10));
        good.serve(theirs);
        final SharedStateServer idle = new SharedStateServer(() -> 3, Duration.ofSeconds(10));
        final List<InetSocketAddress> ds = List.of(listen(idle), listen(good));
        // starts at the first listed distributor (the idle server), then fails over to the second
        final SharedStateFetcher f = new SharedStateFetcher(group, 1, executor, Duration.ofSeconds(5),
                Duration.ofSeconds(5));
        final FetchResult r = f.fetchFromAny(ds, mine, List.of(new FetchKey("a",
                theirs.entry("a").hash(HashType.SIMPLE), HashType.SIMPLE, true))).get(20, TimeUnit.SECONDS);
        assertEquals(ds.get(1), r.distributor());
        assertEquals(3, r.revision());
        assertTrue(java.util.Arrays.equals(content, local));
        good.stopServing();
        final String msg = failure(f.fetchFromAny(ds, mine, List.of(new FetchKey("a", 0, HashType.SIMPLE,
                true)))).getMessage();
        assertTrue(msg.contains("all 2 distributors") && msg.contains("peer 1 is not distributing")
                && msg.contains("peer 3 is not distributing") && msg.indexOf("peer 3") < msg.indexOf("peer 1"), msg);
    }

    @Test
    void unreachableDistributorFails() {
        final InetSocketAddress dead = bind(ch -> { });
        servers.remove(servers.size() - 1).close().syncUninterruptibly();
        final SharedState mine = SharedState.builder().entry("a", new byte[4], DataType.UINT8, 4).build();
        final String msg = failure(fetcher(Duration.ofSeconds(5)).fetch(dead, mine,
                List.of(new FetchKey("a", 0, HashType.SIMPLE, true)))).getMessage();
        assertTrue(msg.contains("cannot connect"), msg);
    }
}
