package io.pccl;

import io.pccl.master.Master;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A group of in-JVM communicators joined into one ring through a real master, for all-reduce system tests.
 * {@link #peers()} is in ring order (rank r sends to rank r + 1).
 *
 * <p>Not thread-safe: driven by the test thread; its pool runs the joint membership calls.
 */
final class AllReduceCluster implements AutoCloseable {
    static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    static final long BOUND_S = 30;

    private final Master master;
    private final List<Communicator> peers = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    private AllReduceCluster(final Master master) {
        this.master = master;
    }

    /** Starts a master and {@code w} peers with default settings. */
    static AllReduceCluster start(final int w) throws Exception {
        return start(w, UnaryOperator.identity());
    }

    /** Starts a master and {@code w} peers; {@code tune} adjusts each builder. */
    static AllReduceCluster start(final int w, final UnaryOperator<Communicator.Builder> tune) throws Exception {
        return start(MasterFixture.start(), w, tune);
    }

    /** Joins {@code w} peers through {@code master}, which the cluster then owns; {@code tune} adjusts each builder. */
    static AllReduceCluster start(final Master master, final int w, final UnaryOperator<Communicator.Builder> tune)
            throws Exception {
        final AllReduceCluster c = new AllReduceCluster(master);
        try {
            for (int i = 0; i < w; i++) {
                c.join(tune.apply(c.builder()).build());
            }
            c.peers.sort(Comparator.comparingInt(p -> p.ring().indexOf(p.peerId())));
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    Communicator.Builder builder() {
        return Communicator.builder().masterAddress(LOOPBACK + ":" + master.port()).peerBasePort(0)
                .bindHost(LOOPBACK).connectionsPerPeer(2).connectTimeout(Duration.ofSeconds(BOUND_S))
                .topologyTimeout(Duration.ofSeconds(BOUND_S)).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3)).progressTimeout(Duration.ofSeconds(10));
    }

    String masterAddress() {
        return LOOPBACK + ":" + master.port();
    }

    /** Connects {@code next} while the accepted peers admit it; returns when the ring includes it. */
    void join(final Communicator next) throws Exception {
        final int size = peers.size() + 1;
        final Future<?> connect = pool.submit(next::connect);
        admit(size);
        connect.get(BOUND_S, TimeUnit.SECONDS);
        peers.add(next);
    }

    /** The accepted peers loop {pending? -> updateTopology} until the group has {@code size} peers. */
    void admit(final int size) throws Exception {
        final List<Future<?>> loops = new ArrayList<>();
        for (Communicator c : peers) {
            loops.add(pool.submit(() -> {
                while (c.peerGroupWorldSize() < size) {
                    if (c.arePeersPending()) {
                        c.updateTopology();
                    }
                }
            }));
        }
        for (Future<?> f : loops) {
            f.get(BOUND_S, TimeUnit.SECONDS);
        }
    }

    /** Joint {@code updateTopology()} of {@code group}. */
    void updateTopology(final List<Communicator> group) throws Exception {
        final List<Future<?>> calls = new ArrayList<>();
        for (Communicator c : group) {
            calls.add(pool.submit(c::updateTopology));
        }
        for (Future<?> f : calls) {
            f.get(BOUND_S, TimeUnit.SECONDS);
        }
    }

    List<Communicator> peers() {
        return peers;
    }

    ExecutorService pool() {
        return pool;
    }

    @Override
    public void close() {
        for (Communicator c : peers) {
            c.close();
        }
        pool.shutdownNow();
        master.close();
    }
}
