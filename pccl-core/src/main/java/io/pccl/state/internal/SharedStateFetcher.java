package io.pccl.state.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.timeout.IdleStateHandler;
import io.pccl.PcclException;
import io.pccl.SharedState;
import io.pccl.SharedStateSyncException;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.netty.NettyTransport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The requester side of shared-state sync: connects to a distributor's peer port with
 * {@code Hello{ROLE_SHARED_STATE}}, requests named keys, streams the bytes straight into the receiver's entries
 * (no intermediate copy of an entry), then re-hashes every verified entry off the event loop.
 *
 * <p>Failures complete the future with {@link SharedStateSyncException} (code SHARED_STATE_FAILED, retryable):
 * connect failure, the distributor refusing (unknown key, not serving), a size mismatch, the connection closing
 * mid-transfer, no bytes for {@code progressTimeout}, or a hash mismatch. Entries may be partly overwritten
 * after a failure; a retry fetches them again.
 *
 * <p>Thread-safe. Futures complete on {@code completionExecutor}, never on an event loop.
 */
public final class SharedStateFetcher {
    private final EventLoopGroup group;
    private final long selfId;
    private final Executor completionExecutor;
    private final int connectTimeoutMs;
    private final long progressTimeoutNs;
    private volatile FetchObserver observer;
    private ConnectionSecurity security = ConnectionSecurity.NONE;

    /**
     * Creates a fetcher.
     *
     * @param group event loops for the fetch connections (of {@link NettyTransport}'s kind); not owned
     * @param selfId this peer's id, sent in the hello
     * @param completionExecutor runs hash verification and completes the futures
     * @param connectTimeout bound on establishing the TCP connection
     * @param progressTimeout the fetch fails when no byte arrives for this long
     */
    public SharedStateFetcher(final EventLoopGroup group, final long selfId, final Executor completionExecutor,
                              final Duration connectTimeout, final Duration progressTimeout) {
        this.group = Objects.requireNonNull(group, "group");
        this.selfId = selfId;
        this.completionExecutor = Objects.requireNonNull(completionExecutor, "completionExecutor");
        this.connectTimeoutMs = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        this.progressTimeoutNs = progressTimeout.toNanos();
        if (connectTimeoutMs <= 0 || progressTimeoutNs <= 0) {
            throw new IllegalArgumentException("connectTimeout " + connectTimeout + " and progressTimeout "
                    + progressTimeout + " must be positive");
        }
    }

    /**
     * Sets a progress observer for fetches started from now on.
     *
     * @param fetchObserver the observer, or null for none
     * @return this
     */
    public SharedStateFetcher observer(final FetchObserver fetchObserver) {
        this.observer = fetchObserver;
        return this;
    }

    /**
     * Opens every fetch connection as the deployment requires (shared key, TLS).
     *
     * @param security the deployment's connection security
     * @return this
     */
    public SharedStateFetcher security(final ConnectionSecurity security) {
        this.security = Objects.requireNonNull(security, "security");
        return this;
    }

    /**
     * Fetches {@code keys} from one of {@code distributors}: starts with the first one (the master orders the list
     * per receiver, so receivers spread over the holders) and moves to the next distributor after a failure,
     * trying each at most once.
     *
     * @param distributors holders of the elected content, at least one
     * @param target the receiver's shared state; listed entries are overwritten
     * @param keys keys to fetch
     * @return completes with the first successful result, or with the last failure (its message lists every
     *         attempt)
     * @throws PcclException INVALID_ARGUMENT if {@code distributors} is empty or a key is invalid
     */
    public CompletableFuture<FetchResult> fetchFromAny(final List<InetSocketAddress> distributors,
                                                       final SharedState target, final List<FetchKey> keys) {
        if (distributors.isEmpty()) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "no distributor to fetch "
                    + keys.size() + " keys from");
        }
        final CompletableFuture<FetchResult> result = new CompletableFuture<>();
        attempt(distributors, 0, 0, target, keys, result, new StringBuilder());
        return result;
    }

    private void attempt(final List<InetSocketAddress> distributors, final int start, final int tried,
                         final SharedState target, final List<FetchKey> keys,
                         final CompletableFuture<FetchResult> result, final StringBuilder failures) {
        final InetSocketAddress d = distributors.get((start + tried) % distributors.size());
        final CompletableFuture<FetchResult> one = fetch(d, target, keys);
        // the caller gave up (timeout, close): stop this attempt, which closes its connection
        result.whenComplete((r, e) -> {
            if (e != null) {
                one.cancel(false);
            }
        });
        one.whenComplete((r, e) -> {
            if (result.isDone()) {
                return;
            }
            if (e == null) {
                result.complete(r);
                return;
            }
            failures.append(failures.length() == 0 ? "" : "; ").append(e.getMessage());
            if (tried + 1 < distributors.size()) {
                attempt(distributors, start, tried + 1, target, keys, result, failures);
            } else {
                result.completeExceptionally(new SharedStateSyncException("fetching " + keys.size()
                        + " keys failed from all " + distributors.size() + " distributors: " + failures, e));
            }
        });
    }

    /**
     * Fetches {@code keys} from {@code distributor} into {@code target}'s entries.
     *
     * @param distributor the distributor's peer port
     * @param target the receiver's shared state; listed entries are overwritten
     * @param keys keys to fetch, distinct, each present in {@code target}
     * @return completes with the result after every verified entry matched its hash
     * @throws PcclException INVALID_ARGUMENT if a key is unknown locally or listed twice
     */
    public CompletableFuture<FetchResult> fetch(final InetSocketAddress distributor, final SharedState target,
                                                final List<FetchKey> keys) {
        Objects.requireNonNull(distributor, "distributor");
        final List<SharedState.Entry> entries = new ArrayList<>(keys.size());
        final Set<String> seen = new HashSet<>();
        for (final FetchKey k : keys) {
            final SharedState.Entry e = target.entry(k.key());
            if (e == null || !seen.add(k.key())) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, (e == null
                        ? "key '" + k.key() + "' is not in the local shared state"
                        : "key '" + k.key() + "' listed twice") + " (fetching from " + distributor + ")");
            }
            entries.add(e);
        }
        final CompletableFuture<FetchResult> result = new CompletableFuture<>();
        final FetchHandler handler = new FetchHandler(selfId, distributor, List.copyOf(keys), entries, result,
                completionExecutor, observer);
        final Bootstrap b = new Bootstrap().group(group).channel(NettyTransport.channelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMs)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(final Channel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(progressTimeoutNs, 0, 0, TimeUnit.NANOSECONDS),
                                handler);
                        security.installDialer(ch.pipeline(), "distributor " + distributor,
                                TimeUnit.MILLISECONDS.toNanos(connectTimeoutMs));
                    }
                });
        final ChannelFuture connect = b.connect(distributor);
        // a failed or cancelled fetch must not go on writing into the caller's entries
        result.whenComplete((r, e) -> {
            if (e != null) {
                connect.channel().close();
            }
        });
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                handler.failExternally(new SharedStateSyncException("cannot connect to distributor "
                        + distributor + " within " + connectTimeoutMs + " ms: " + f.cause(), f.cause()));
            }
        });
        return result;
    }
}
