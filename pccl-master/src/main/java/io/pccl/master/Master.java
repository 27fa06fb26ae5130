package io.pccl.master;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pccl.master.state.PeerPhase;
import io.pccl.master.state.MasterStateMachine;
import io.pccl.master.state.election.HeldRevision;
import io.pccl.transport.ConnectionSecurity;
import io.pccl.transport.ConnectionSlots;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.MetricsEndpoint;
import io.pccl.transport.PauseTolerantClock;
import io.pccl.transport.ProtocolConstants;
import io.pccl.transport.auth.SharedKey;
import io.pccl.transport.tls.TlsConfig;
import io.pccl.transport.netty.NettyTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embeddable pccl master server.
 *
 * <pre>{@code
 * try (Master master = Master.builder().port(0).build().start()) {
 *     int port = master.port();
 *     ...
 * }
 * }</pre>
 *
 * Lifecycle: {@link #start()} binds (once), {@link #close()} stops gracefully within a bound (connections get
 * {@code Error{ERROR_SHUTTING_DOWN}}), {@link #shutdownNow()} stops at once. Both are idempotent. All master
 * state lives on one conductor thread, which is also the (first) event loop serving peer connections (epoll where
 * available), so a message read there reaches the state machine and its answers reach the sockets without a
 * thread hand-off.
 *
 * <p>Thread-safe.
 *
 * @since 0.1
 */
public final class Master implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Master.class);
    private static final int NEW = 0;
    private static final int STARTED = 1;
    private static final int CLOSED = 2;
    private static final long CLOSE_BOUND_MS = 3_000;

    private final Builder config;
    private final AtomicInteger lifecycle = new AtomicInteger(NEW);
    /**
     * Every accepted connection still open (a channel leaves the group when it closes). Both stops close them
     * explicitly before stopping the event loops: a loop shut down without a quiet period sometimes terminated
     * without closing its channels (about 1 crash in 14 here; in Netty 4.2 the loop checks for a shutdown before
     * it runs its tasks and confirms the shutdown after them), which left the peers of a crashed master on open,
     * silent sockets until their heartbeat timeout.
     */
    private final ChannelGroup connections = new DefaultChannelGroup("pccl-master", GlobalEventExecutor.INSTANCE);
    private volatile EventLoopGroup bossGroup;
    private volatile EventLoopGroup workerGroup;
    private volatile EventLoop conductorExecutor;
    private volatile MasterConductor conductor;
    private volatile Channel serverChannel;
    private volatile InetSocketAddress boundAddress;
    private volatile MetricsEndpoint metricsServer;
    private volatile MasterStateFile stateFile;

    private Master(final Builder config) {
        this.config = config;
    }

    /**
     * A builder with defaults: host 0.0.0.0, port 48148, heartbeat interval 1 s, heartbeat timeout 5 s,
     * registration timeout equal to the heartbeat timeout.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds the listening socket and starts the conductor.
     *
     * @return this master
     * @throws UncheckedIOException if binding fails (address in use, unknown host, permission), or the state file
     *     cannot be read; the message names the address or the file
     * @throws IllegalArgumentException if the state file is malformed (the message names the file and the line) or
     *     its directory is missing or not writable
     * @throws IllegalStateException if already started or closed
     */
    public Master start() {
        if (!lifecycle.compareAndSet(NEW, STARTED)) {
            throw new IllegalStateException("master already " + (lifecycle.get() == STARTED ? "started" : "closed"));
        }
        final TreeMap<Integer, HeldRevision> restored;
        try {
            restored = new TreeMap<>();
            if (config.stateFile != null) {
                restored.putAll(MasterStateFile.read(config.stateFile));
                MasterStateFile.checkWritable(config.stateFile);
                MasterStateFile.removeLeftovers(config.stateFile);
            }
        } catch (final RuntimeException e) {
            lifecycle.set(CLOSED);
            throw e;
        }
        bossGroup = NettyTransport.newEventLoopGroup(1, "pccl-master-accept");
        workerGroup = NettyTransport.newEventLoopGroup(config.ioThreads, "pccl-master-io");
        // The conductor runs on an I/O event loop: handlers of the channels served by that loop call it inline
        // and its writes to them need no wake-up (with one I/O thread, that is every channel).
        conductorExecutor = workerGroup.next();
        final long shorterTimeoutMs = Math.min(config.heartbeatTimeout.toMillis(),
                config.registrationTimeout().toMillis());
        final long workMs = Math.max(1, Math.min(100, shorterTimeoutMs / 4));
        // Timeouts count only the time the master ran: after a pause it must not remove peers whose messages
        // wait unread in its sockets. The conductor reads the clock at least every work period.
        conductor = new MasterConductor(conductorExecutor, new PauseTolerantClock(System::nanoTime,
                PauseTolerantClock.maxStepNs(TimeUnit.MILLISECONDS.toNanos(workMs),
                        TimeUnit.MILLISECONDS.toNanos(shorterTimeoutMs))),
                config.heartbeatTimeout.toNanos(), config.registrationTimeout().toNanos());
        conductor.machine().collectiveVoteTimeoutNs(config.collectiveVoteTimeout.toNanos())
                .establishRoundTimeoutNs(config.establishRoundTimeout.toNanos())
                .optimizeTimeoutNs(config.optimizeTimeout.toNanos());
        if (config.stateFile != null) {
            conductor.machine().restoreHeldRevisions(restored, config.stateGrace.toNanos());
            stateFile = new MasterStateFile(config.stateFile, restored);
            conductor.persistTo(stateFile);
            if (restored.isEmpty()) {
                LOG.info("master: state file {} holds no group's revision", config.stateFile);
            } else {
                LOG.info("master: state file {}: revision by group {}; a group's first sync elects only that revision"
                        + " with the same content, or a later one, for up to {} ms after the group's first peer"
                        + " registers", config.stateFile, describe(restored), config.stateGrace.toMillis());
            }
        }
        final ConnectionSlots slots = new ConnectionSlots(config.maxConnections);
        final LogThrottle handshakeFailures = new LogThrottle();
        final ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NettyTransport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new MasterChannelInitializer(conductor, connections,
                        new ConnectionLimits(config.maxFrameBytes, config.heartbeatTimeout.toMillis(),
                                config.maxMessagesPerSecond, slots),
                        ConnectionSecurity.of(config.authKey, config.tls),
                        config.registrationTimeout().toNanos(), handshakeFailures));
        final ChannelFuture bind = bootstrap.bind(config.host, config.port);
        final boolean done = bind.awaitUninterruptibly(10, TimeUnit.SECONDS);
        if (!done || !bind.isSuccess()) {
            final Throwable cause = done ? bind.cause() : null;
            shutdownNow();
            final String what = "cannot bind pccl master to " + config.host + ":" + config.port + ": "
                    + (cause == null ? "timed out after 10 s" : cause.getMessage());
            if (cause instanceof IOException io) {
                throw new UncheckedIOException(what, io);
            }
            throw new UncheckedIOException(new IOException(what, cause));
        }
        serverChannel = bind.channel();
        boundAddress = (InetSocketAddress) serverChannel.localAddress();
        if (config.metricsPort >= 0) {
            try {
                metricsServer = MetricsEndpoint.bind(bossGroup, workerGroup, config.metricsHost,
                        config.metricsPort, conductorExecutor, () -> conductor.metricsText(slots, handshakeFailures,
                                config.tls));
            } catch (final UncheckedIOException e) {
                shutdownNow();
                throw e;
            }
            LOG.info("master: metrics at http://{}:{}/metrics", config.metricsHost,
                    metricsServer.localAddress().getPort());
        }
        if (config.tls != null && !config.tlsReloadInterval.isZero()) {
            // Runs on the accepting loop: reading three small files never delays the conductor.
            config.tls.scheduleReload(bossGroup, config.tlsReloadInterval.toNanos(), "master");
        }
        conductorExecutor.scheduleWithFixedDelay(this::doWorkSafely, workMs, workMs, TimeUnit.MILLISECONDS);
        final long hbMs = Math.max(1, config.heartbeatInterval.toMillis());
        conductorExecutor.scheduleWithFixedDelay(this::heartbeatSafely, hbMs, hbMs, TimeUnit.MILLISECONDS);
        LOG.info("master: listening on {} ({}, heartbeat interval {} ms, timeout {} ms, registration timeout {} ms,"
                + " at most {} connections and {} messages per second each)", boundAddress, NettyTransport.name(),
                hbMs, config.heartbeatTimeout.toMillis(), config.registrationTimeout().toMillis(),
                config.maxConnections, config.maxMessagesPerSecond);
        return this;
    }

    private static String describe(final TreeMap<Integer, HeldRevision> revisions) {
        final StringBuilder b = new StringBuilder("{");
        revisions.forEach((g, r) -> b.append(b.length() > 1 ? ", " : "").append(Integer.toUnsignedString(g))
                .append('=').append(Long.toUnsignedString(r.revision())));
        return b.append('}').toString();
    }

    private void doWorkSafely() {
        try {
            conductor.doWork();
        } catch (final RuntimeException e) {
            LOG.error("master: doWork failed", e);
        }
    }

    private void heartbeatSafely() {
        try {
            conductor.sendHeartbeats(System.currentTimeMillis());
        } catch (final RuntimeException e) {
            LOG.error("master: sending heartbeats failed", e);
        }
    }

    /**
     * The bound port; with port 0 this is the port the OS chose.
     *
     * @return the listening port
     * @throws IllegalStateException before {@link #start()}
     */
    public int port() {
        return localAddress().getPort();
    }

    /**
     * The metrics endpoint's port ({@link Builder#metricsPort}); with port 0 the one the OS chose.
     *
     * @return the port, or -1 when the endpoint is off
     * @throws IllegalStateException before {@link #start()}
     */
    public int metricsPort() {
        if (boundAddress == null) {
            throw new IllegalStateException("master not started");
        }
        final MetricsEndpoint m = metricsServer;
        return m == null ? -1 : m.localAddress().getPort();
    }

    /**
     * Reads the TLS files of {@link Builder#tls} again; if they changed, connections accepted from now on use them
     * (open ones keep theirs). The master also does this by itself every {@link Builder#tlsReloadInterval}.
     *
     * @return whether the files changed
     * @throws IllegalStateException without TLS
     * @throws IllegalArgumentException naming the file and what is wrong with it; the files in use stay in use
     */
    public boolean reloadTls() {
        if (config.tls == null) {
            throw new IllegalStateException("the master has no TLS configured (Builder.tls)");
        }
        return config.tls.reload();
    }

    /**
     * The bound address.
     *
     * @return the listening address
     * @throws IllegalStateException before {@link #start()}
     */
    public InetSocketAddress localAddress() {
        final InetSocketAddress a = boundAddress;
        if (a == null) {
            throw new IllegalStateException("master not started");
        }
        return a;
    }

    /**
     * Phase of a peer as the conductor sees it, read on the conductor thread; for tests in this package.
     *
     * @param peerId the peer
     * @return its phase ({@link PeerPhase#LEFT} if unknown)
     * @throws IllegalStateException before {@link #start()} or if the conductor does not answer within 5 s
     */
    PeerPhase phaseOf(final long peerId) {
        final MasterConductor c = conductor;
        if (c == null) {
            throw new IllegalStateException("master not started");
        }
        final Future<PeerPhase> f = c.executor().submit(() -> c.machine().phaseOf(peerId));
        if (!f.awaitUninterruptibly(5, TimeUnit.SECONDS) || !f.isSuccess()) {
            throw new IllegalStateException("conductor did not answer within 5 s", f.cause());
        }
        return f.getNow();
    }

    /**
     * Graceful stop: stops accepting, sends {@code Error{ERROR_SHUTTING_DOWN}} to every connection, closes them
     * and stops the threads, waiting at most about 3 s in total. Idempotent.
     */
    @Override
    public void close() {
        if (lifecycle.getAndSet(CLOSED) != STARTED) {
            return;
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_BOUND_MS);
        freezeState();
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(remainingMs(deadlineNs));
        }
        closeMetrics();
        try {
            final Future<List<Channel>> closing = conductorExecutor.submit(
                    () -> conductor.closeAll("pccl master is shutting down"));
            if (closing.awaitUninterruptibly(remainingMs(deadlineNs)) && closing.isSuccess()) {
                for (final Channel ch : closing.getNow()) {
                    if (deadlineNs - System.nanoTime() <= 0) {
                        break;
                    }
                    ch.closeFuture().awaitUninterruptibly(Math.min(500, remainingMs(deadlineNs)));
                }
            }
        } catch (final RejectedExecutionException e) {
            LOG.debug("master: conductor already stopped", e);
        }
        connections.close().awaitUninterruptibly(remainingMs(deadlineNs));
        stopThreads(100, remainingMs(deadlineNs));
        final MasterStateFile file = stateFile;
        if (file != null) {
            file.close(remainingMs(deadlineNs) + 500);
        }
        LOG.info("master: closed");
    }

    /**
     * Immediate stop for tests and failure paths: closes the listening socket and every connection without
     * notifying peers (they see the connection close), then stops the threads. Idempotent.
     */
    public void shutdownNow() {
        lifecycle.set(CLOSED);
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_BOUND_MS);
        freezeState();
        final Channel server = serverChannel;
        if (server != null) {
            server.close().awaitUninterruptibly(remainingMs(deadlineNs));
        }
        closeMetrics();
        connections.close().awaitUninterruptibly(remainingMs(deadlineNs));
        stopThreads(0, remainingMs(deadlineNs));
        final MasterStateFile file = stateFile;
        if (file != null) {
            file.close(remainingMs(deadlineNs) + 500);
        }
    }

    /** The peers a closing master drops are not "every holder left": the state file keeps their revisions. */
    private void freezeState() {
        final MasterConductor c = conductor;
        if (c != null) {
            c.freezeState();
        }
    }

    private void closeMetrics() {
        final MetricsEndpoint m = metricsServer;
        if (m != null) {
            m.close();
        }
    }

    private void stopThreads(final long quietMs, final long boundMs) {
        final long timeoutMs = Math.max(quietMs, Math.max(1, boundMs));
        final Future<?>[] futures = new Future<?>[2];
        int n = 0;
        // The conductor's executor is one of the worker group's loops and stops with it.
        for (final EventExecutorGroup g : new EventExecutorGroup[] {bossGroup, workerGroup}) {
            if (g != null) {
                futures[n++] = g.shutdownGracefully(quietMs, timeoutMs, TimeUnit.MILLISECONDS);
            }
        }
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs + 500);
        for (int i = 0; i < n; i++) {
            futures[i].awaitUninterruptibly(remainingMs(deadlineNs));
        }
    }

    private static long remainingMs(final long deadlineNs) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()));
    }

    /**
     * Configuration of a {@link Master}.
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {
        /** Default of {@link #maxConnections}. */
        public static final int DEFAULT_MAX_CONNECTIONS = 4096;
        /** Default of {@link #tlsReloadInterval}. */
        public static final Duration DEFAULT_TLS_RELOAD_INTERVAL = Duration.ofSeconds(60);
        /** Default of {@link #stateGrace}: 60 s. */
        public static final Duration DEFAULT_STATE_GRACE = Duration.ofSeconds(60);
        /** Default of {@link #maxMessagesPerSecond}. */
        public static final int DEFAULT_MAX_MESSAGES_PER_SECOND = 20_000;
        private String host = "0.0.0.0";
        private int port = ProtocolConstants.DEFAULT_MASTER_PORT;
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        private Duration heartbeatTimeout = Duration.ofSeconds(5);
        /** Null: the heartbeat timeout. */
        private Duration registrationTimeout;
        private Duration collectiveVoteTimeout =
                Duration.ofNanos(MasterStateMachine.DEFAULT_COLLECTIVE_VOTE_TIMEOUT_NS);
        private Duration establishRoundTimeout =
                Duration.ofNanos(MasterStateMachine.DEFAULT_ESTABLISH_ROUND_TIMEOUT_NS);
        private Duration optimizeTimeout = Duration.ofNanos(MasterStateMachine.DEFAULT_OPTIMIZE_TIMEOUT_NS);
        private int ioThreads = 1;
        private int maxFrameBytes = ProtocolConstants.MAX_CONTROL_FRAME_BYTES;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int maxMessagesPerSecond = DEFAULT_MAX_MESSAGES_PER_SECOND;
        private SharedKey authKey;
        private TlsConfig tls;
        private int metricsPort = -1;
        private String metricsHost = "127.0.0.1";
        private Duration tlsReloadInterval = DEFAULT_TLS_RELOAD_INTERVAL;
        private Path stateFile;
        private Duration stateGrace = DEFAULT_STATE_GRACE;

        private Builder() {
        }

        /**
         * Keeps, in {@code file}, the revision of each group's last successful shared-state sync and a fingerprint of
         * the content it elected, and reads them at start: after a restart, a group's first sync elects only that
         * revision with that content, or a later revision, so a peer that fell behind and reaches the new master
         * before the up-to-date ones cannot seed the group with older state (docs/fault-tolerance.md §7,
         * docs/operations.md "Restarting a run"). A missing file is a first start. The master rewrites the file (a
         * temporary file, then a rename) whenever a sync succeeds; a group whose holders all left is removed from
         * it, as the master forgets it. Default: none, a restarted master knows nothing.
         *
         * @param file the state file; its directory must be writable
         * @return this
         */
        public Builder stateFile(final Path file) {
            this.stateFile = Objects.requireNonNull(file, "file");
            return this;
        }

        /**
         * How long after its first peer registers a group restored from the {@link #stateFile} waits for a peer that
         * holds its revision; after that its next sync accepts any revision (the run ended while the master was
         * down). Default {@link #DEFAULT_STATE_GRACE}.
         *
         * @param grace positive
         * @return this
         */
        public Builder stateGrace(final Duration grace) {
            this.stateGrace = positive(grace, "stateGrace");
            return this;
        }

        /**
         * How often the master reads its TLS files again ({@link #tls}) and, when they changed and are usable, makes
         * new connections use them: certificates can be rotated without a restart (docs/operations.md, "Rotating
         * certificates"). A change that cannot be used (a key that does not belong to the certificate, say, while
         * the files are being replaced) is logged and the files in use stay. Default 60 s; zero turns it off.
         *
         * @param interval the period, zero or positive
         * @return this
         * @throws IllegalArgumentException if negative
         */
        public Builder tlsReloadInterval(final Duration interval) {
            if (Objects.requireNonNull(interval, "interval").isNegative()) {
                throw new IllegalArgumentException("tlsReloadInterval must be zero (off) or positive, got "
                        + interval);
            }
            this.tlsReloadInterval = interval;
            return this;
        }

        /**
         * The deployment's shared key: every connection must prove it before its hello, within the registration
         * timeout (docs/protocol.md, "Authentication"); one that does not gets {@code Error{ERROR_UNAUTHENTICATED}}
         * and is closed. Peers need the same key ({@code Communicator.Builder.authKey}). Default: none.
         *
         * @param key 16 to 4096 bytes (copied)
         * @return this
         * @throws IllegalArgumentException if the length is out of range
         */
        public Builder authKey(final byte[] key) {
            this.authKey = SharedKey.of(key);
            return this;
        }

        /**
         * {@link #authKey(byte[])} from a file: its UTF-8 text without surrounding white space, as
         * {@code Communicator.Builder.authKeyFile} reads it.
         *
         * @param file the key file
         * @return this
         * @throws IOException if the file cannot be read
         * @throws IllegalArgumentException if it holds fewer than 16 bytes
         */
        public Builder authKeyFile(final Path file) throws IOException {
            this.authKey = SharedKey.fromFile(file);
            return this;
        }

        /**
         * Mutual TLS on every connection (docs/protocol.md, "Encryption (TLS)"): the master presents
         * {@code certificateChain} and accepts only peers whose certificate is signed by one of
         * {@code trustedCertificates}; a connection that does not open with TLS gets
         * {@code Error{ERROR_UNAUTHENTICATED}} in plain text and is closed. Peers need TLS too
         * ({@code Communicator.Builder.tls}). Combines with a shared key. Default: none.
         *
         * @param certificateChain PEM certificate chain of the master, leaf first
         * @param privateKey PEM private key of the leaf, unencrypted PKCS#8
         * @param trustedCertificates PEM certificates the master trusts (the deployment's CA)
         * @return this
         * @throws IllegalArgumentException naming the file if one is missing, unreadable or invalid
         */
        public Builder tls(final Path certificateChain, final Path privateKey, final Path trustedCertificates) {
            return tls(certificateChain, privateKey, trustedCertificates, null);
        }

        /**
         * {@link #tls(Path, Path, Path)} with a certificate revocation list: a certificate the list names is refused
         * in every handshake, and at the next reload ({@link #tlsReloadInterval}) after the list gained it, the
         * master closes the connections of peers that presented it (docs/operations.md, "Revoking a
         * certificate").
         *
         * @param certificateChain PEM certificate chain of the master, leaf first
         * @param privateKey PEM private key of the leaf, unencrypted PKCS#8
         * @param trustedCertificates PEM certificates the master trusts (the deployment's CA)
         * @param revocationList PEM or DER CRLs, each signed by one of the trusted certificates (an empty file
         *        revokes nothing), or null for none
         * @return this
         * @throws IllegalArgumentException naming the file if one is missing, unreadable or invalid
         */
        public Builder tls(final Path certificateChain, final Path privateKey, final Path trustedCertificates,
                           final Path revocationList) {
            this.tls = TlsConfig.fromPem(certificateChain, privateKey, trustedCertificates, revocationList);
            return this;
        }

        /**
         * Serves the master's metrics over plain HTTP at {@code http://HOST:PORT/metrics}, in the Prometheus text
         * format (docs/operations.md, "Metrics"). Default: off.
         *
         * @param port the port, 0 for an ephemeral one, or -1 for none
         * @return this
         * @throws IllegalArgumentException if the port is outside -1..65535
         */
        public Builder metricsPort(final int port) {
            if (port < -1 || port > 65535) {
                throw new IllegalArgumentException("metricsPort must be -1 (off) or in 0..65535, got " + port);
            }
            this.metricsPort = port;
            return this;
        }

        /**
         * Address the metrics endpoint binds. The endpoint has no authentication or TLS, so the default keeps it
         * on this machine.
         *
         * @param host host name or IP literal; default 127.0.0.1
         * @return this
         */
        public Builder metricsHost(final String host) {
            this.metricsHost = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * Address to bind.
         *
         * @param host host name or IP literal; default 0.0.0.0
         * @return this
         */
        public Builder host(final String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * Port to bind; 0 picks a free port (read it back with {@link Master#port()}).
         *
         * @param port 0..65535; default 48148
         * @return this
         */
        public Builder port(final int port) {
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException("port " + port + " is outside 0..65535");
            }
            this.port = port;
            return this;
        }

        /**
         * How often the master sends {@code Heartbeat} to every registered peer.
         *
         * @param interval positive; default 1 s
         * @return this
         */
        public Builder heartbeatInterval(final Duration interval) {
            this.heartbeatInterval = positive(interval, "heartbeatInterval");
            return this;
        }

        /**
         * A peer (or an unregistered connection) silent for longer than this is removed.
         *
         * @param timeout positive; default 5 s
         * @return this
         */
        public Builder heartbeatTimeout(final Duration timeout) {
            this.heartbeatTimeout = positive(timeout, "heartbeatTimeout");
            return this;
        }

        /**
         * How long a connection may take from being opened to sending its register request. Heartbeats sent
         * before registering do not extend it; when it passes, the connection gets {@code Error{ERROR_KICKED}}
         * naming the elapsed time and the limit, and is closed.
         *
         * @param timeout positive; default the heartbeat timeout
         * @return this
         */
        public Builder registrationTimeout(final Duration timeout) {
            this.registrationTimeout = positive(timeout, "registrationTimeout");
            return this;
        }

        Duration registrationTimeout() {
            return registrationTimeout != null ? registrationTimeout : heartbeatTimeout;
        }

        /**
         * How long a collective (all-reduce) initiate vote waits for every accepted peer of its group to launch
         * the same tag. When it passes, the peers that did launch it get a failed {@code CollectiveDone} with
         * {@code FAILED_PRECONDITION} naming the peers that did not, so no caller waits for ever on a peer that is
         * alive but never launches the tag.
         *
         * @param timeout positive; default 5 minutes
         * @return this
         */
        public Builder collectiveVoteTimeout(final Duration timeout) {
            this.collectiveVoteTimeout = positive(timeout, "collectiveVoteTimeout");
            return this;
        }

        /**
         * How long an establishment round may run, from the connection info the master sends to the last
         * participant's report. When it passes, the participants that have not reported are kicked
         * ({@code ERROR_KICKED} naming the round and the limit); the others get a failed round and vote again. So a
         * peer that stays connected and heartbeats but never reports cannot hold its group.
         *
         * @param timeout positive; default 2 minutes (a peer's own dials are bounded by its handshake timeout)
         * @return this
         */
        public Builder establishRoundTimeout(final Duration timeout) {
            this.establishRoundTimeout = positive(timeout, "establishRoundTimeout");
            return this;
        }

        /**
         * How long the measurement stage of a topology optimization may run, from the work the master hands out to
         * the last participant's completion. When it passes, the participants that have not completed are kicked
         * ({@code ERROR_KICKED} naming their remaining targets and the limit) and the others finish without them.
         *
         * @param timeout positive; default 10 minutes (each peer measures its unmeasured edges one at a time)
         * @return this
         */
        public Builder optimizeTimeout(final Duration timeout) {
            this.optimizeTimeout = positive(timeout, "optimizeTimeout");
            return this;
        }

        /**
         * Number of I/O event loops serving peer connections. One of them also runs the conductor (all master
         * state): messages on its connections reach the state machine without a thread hand-off, while every
         * message on another loop's connection costs a hand-off each way (tens to hundreds of microseconds on a
         * busy host). Control traffic is small, so one loop suffices for hundreds of peers.
         *
         * @param threads at least 1; default 1
         * @return this
         */
        public Builder ioThreads(final int threads) {
            this.ioThreads = atLeast(threads, 1, "ioThreads");
            return this;
        }

        /**
         * Largest control frame accepted.
         *
         * @param bytes at least 64; default {@link ProtocolConstants#MAX_CONTROL_FRAME_BYTES}
         * @return this
         */
        public Builder maxFrameBytes(final int bytes) {
            this.maxFrameBytes = atLeast(bytes, 64, "maxFrameBytes");
            return this;
        }

        /**
         * The most control connections open at once, registered or not. A connection opened beyond it gets
         * {@code Error{ERROR_RESOURCE_EXHAUSTED}} naming the limit and is closed (the peer's {@code connect()} fails
         * with a retryable {@code MASTER_UNAVAILABLE}); it frees a slot when it closes.
         *
         * @param connections at least 1; default {@value #DEFAULT_MAX_CONNECTIONS}
         * @return this
         */
        public Builder maxConnections(final int connections) {
            this.maxConnections = atLeast(connections, 1, "maxConnections");
            return this;
        }

        /**
         * The sustained rate of messages one connection may send, with a burst of as many at once. Past it the
         * master stops reading the connection until its budget has refilled: the messages are delayed, none is
         * dropped. A connection whose backlog over the rate would take longer than the heartbeat timeout to drain
         * is kicked ({@code ERROR_KICKED} naming the rate). This bounds the CPU one peer can take from the master; a
         * peer sends one heartbeat a second and a few messages per collective, vote or sync.
         *
         * @param messages at least 1; default {@value #DEFAULT_MAX_MESSAGES_PER_SECOND}
         * @return this
         */
        public Builder maxMessagesPerSecond(final int messages) {
            this.maxMessagesPerSecond = atLeast(messages, 1, "maxMessagesPerSecond");
            return this;
        }

        /**
         * Validates and creates the (not yet started) master.
         *
         * @return the master
         * @throws IllegalArgumentException if the heartbeat timeout is not longer than the interval
         */
        public Master build() {
            if (heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
                throw new IllegalArgumentException("heartbeatTimeout " + heartbeatTimeout.toMillis()
                        + " ms must exceed heartbeatInterval " + heartbeatInterval.toMillis() + " ms");
            }
            final Builder copy = new Builder();
            copy.host = host;
            copy.port = port;
            copy.heartbeatInterval = heartbeatInterval;
            copy.heartbeatTimeout = heartbeatTimeout;
            copy.registrationTimeout = registrationTimeout;
            copy.collectiveVoteTimeout = collectiveVoteTimeout;
            copy.establishRoundTimeout = establishRoundTimeout;
            copy.optimizeTimeout = optimizeTimeout;
            copy.ioThreads = ioThreads;
            copy.maxFrameBytes = maxFrameBytes;
            copy.maxConnections = maxConnections;
            copy.maxMessagesPerSecond = maxMessagesPerSecond;
            copy.authKey = authKey;
            copy.tls = tls;
            copy.tlsReloadInterval = tlsReloadInterval;
            copy.metricsPort = metricsPort;
            copy.metricsHost = metricsHost;
            copy.stateFile = stateFile;
            copy.stateGrace = stateGrace;
            return new Master(copy);
        }

        private static int atLeast(final int value, final int min, final String name) {
            if (value < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
            }
            return value;
        }

        private static Duration positive(final Duration d, final String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
