package io.pccl;

import io.pccl.master.Master;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A real master on loopback port 0 plus communicators in this JVM, each driven from its own thread, for the
 * shared-state system tests: forms groups, runs joint syncs, and collects each peer's outcome.
 *
 * <p>Confined to the test thread (the pool threads only run the submitted calls).
 */
final class SyncCluster implements AutoCloseable {
    static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    static final long BOUND_S = 30;

    private Master master;
    /** The masters' state file, or null. */
    private final Path stateFile;
    private final List<Communicator> peers = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    SyncCluster() {
        this(null);
    }

    /** A cluster whose masters keep the groups' revisions in {@code stateFile} (null: none). */
    SyncCluster(final Path stateFile) {
        this.stateFile = stateFile;
        master = MasterFixture.start(0, stateFile);
    }

    /**
     * Crashes the master ({@link Master#shutdownNow()}: connections closed, nothing said) and starts a new one on
     * the same port, as an operator's supervisor would.
     */
    void restartMasterAbruptly() {
        final int port = master.port();
        master.shutdownNow();
        master = MasterFixture.start(port, stateFile);
    }

    /**
     * Blocks until {@code c} noticed the loss of its master: polls {@code arePeersPending()}, which throws
     * {@link MasterLostException} from then on. For use after the master is gone; with a live master the call is
     * a joint one and may block for the topology timeout. Fails after {@link #BOUND_S} seconds.
     */
    void awaitMasterLoss(final Communicator c) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_S);
        while (System.nanoTime() < deadline) {
            c.arePeersPending();
            LockSupport.parkNanos(200_000); // a bounded poll: the API has no loss event to wait on
        }
        throw new AssertionError("the master's loss was not noticed within " + BOUND_S + " s");
    }

    /** The master now running. */
    Master master() {
        return master;
    }

    /** An unconnected peer of {@code group} with bounded timeouts. */
    Communicator newPeer(final int group) {
        final Communicator c = Communicator.builder().masterAddress(LOOPBACK + ":" + master.port())
                .peerGroup(group).peerBasePort(0).bindHost(LOOPBACK).connectionsPerPeer(1)
                .connectTimeout(Duration.ofSeconds(BOUND_S)).topologyTimeout(Duration.ofSeconds(BOUND_S))
                .heartbeatInterval(Duration.ofMillis(200)).heartbeatTimeout(Duration.ofSeconds(3)).build();
        peers.add(c);
        return c;
    }

    /** {@code n} connected peers of {@code group}, accepted one by one (ascending peer ids in list order). */
    List<Communicator> group(final int group, final int n) throws Exception {
        final List<Communicator> members = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            join(members, newPeer(group));
        }
        return members;
    }

    /** Connects {@code newcomer} while the accepted {@code members} accept it; adds it to {@code members}. */
    void join(final List<Communicator> members, final Communicator newcomer) throws Exception {
        final int size = members.size() + 1;
        final List<Future<?>> calls = new ArrayList<>();
        calls.add(pool.submit(() -> {
            newcomer.connect();
            return null;
        }));
        for (final Communicator c : members) {
            calls.add(pool.submit(() -> {
                while (c.peerGroupWorldSize() < size) {
                    if (c.arePeersPending()) {
                        c.updateTopology();
                    }
                }
                return null;
            }));
        }
        for (final Future<?> f : calls) {
            f.get(BOUND_S, TimeUnit.SECONDS);
        }
        members.add(newcomer);
    }

    /** Every listed peer calls updateTopology() at once. */
    void updateTopology(final List<Communicator> members) throws Exception {
        final List<Future<?>> calls = new ArrayList<>();
        for (final Communicator c : members) {
            calls.add(pool.submit(() -> {
                c.updateTopology();
                return null;
            }));
        }
        for (final Future<?> f : calls) {
            f.get(BOUND_S, TimeUnit.SECONDS);
        }
    }

    /** Peer {@code i} syncs {@code states[i]} with {@code strategies[i]}; all at once, each on its own thread. */
    List<Outcome> syncAll(final List<Communicator> comms, final List<SharedState> states,
                          final List<SyncStrategy> strategies) throws InterruptedException, TimeoutException {
        final List<Future<SyncInfo>> calls = new ArrayList<>();
        for (int i = 0; i < comms.size(); i++) {
            final Communicator c = comms.get(i);
            final SharedState s = states.get(i);
            final SyncStrategy st = strategies.get(i);
            calls.add(pool.submit(() -> c.syncSharedState(s, st)));
        }
        final List<Outcome> out = new ArrayList<>();
        for (final Future<SyncInfo> f : calls) {
            try {
                out.add(new Outcome(f.get(BOUND_S, TimeUnit.SECONDS), null));
            } catch (final ExecutionException e) {
                if (!(e.getCause() instanceof PcclException)) {
                    throw new AssertionError("sync threw a non-pccl exception", e.getCause());
                }
                out.add(new Outcome(null, (PcclException) e.getCause()));
            }
        }
        return out;
    }

    /** All peers sync with ENFORCE_POPULAR. */
    List<Outcome> syncAll(final List<Communicator> comms, final List<SharedState> states)
            throws InterruptedException, TimeoutException {
        final List<SyncStrategy> strategies = new ArrayList<>();
        for (int i = 0; i < comms.size(); i++) {
            strategies.add(SyncStrategy.ENFORCE_POPULAR);
        }
        return syncAll(comms, states, strategies);
    }

    /** Runs a task on the pool (a peer's own thread). */
    <T> Future<T> async(final java.util.concurrent.Callable<T> task) {
        return pool.submit(task);
    }

    @Override
    public void close() {
        for (final Communicator c : peers) {
            c.close();
        }
        pool.shutdownNow();
        master.close();
    }

    /** A 1024-byte (by default) UINT8 entry filled with {@code value}. */
    static byte[] filled(final int size, final int value) {
        final byte[] b = new byte[size];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** One entry {@code key} of {@code content} (UINT8) at {@code revision}. */
    static SharedState state(final long revision, final String key, final byte[] content) {
        return SharedState.builder().revision(revision).entry(key, content, DataType.UINT8, content.length).build();
    }

    /**
     * One peer's outcome: exactly one of {@code info} and {@code error} is set.
     *
     * @param info the sync result
     * @param error the failure
     */
    record Outcome(SyncInfo info, PcclException error) {
        SyncInfo ok(final String who) {
            if (error != null) {
                throw new AssertionError(who + ": sync failed: " + error.code() + " " + error.getMessage(), error);
            }
            return info;
        }

        PcclException failed(final String who) {
            assertNull(info, who + ": sync unexpectedly succeeded: " + info);
            assertNotNull(error, who);
            return error;
        }

        void assertBytes(final String who, final long tx, final long rx) {
            final SyncInfo i = ok(who);
            assertEquals(tx, i.txBytes(), who + " txBytes (" + i + ")");
            assertEquals(rx, i.rxBytes(), who + " rxBytes (" + i + ")");
        }
    }
}
