package io.pccl;

import io.pccl.master.Master;
import io.netty.channel.Channel;
import io.pccl.internal.p2p.P2PConnections;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.transport.Envelopes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real master + peers over loopback: joining, group isolation, a peer lost mid-vote. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MembershipSystemTest {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final long BOUND_S = 20;

    private Master master;
    private final List<Communicator> peers = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void startMaster() {
        master = MasterFixture.start();
    }

    @AfterEach
    void stop() {
        for (Communicator c : peers) {
            c.close();
        }
        pool.shutdownNow();
        master.close();
    }

    private Communicator newPeer(final int group) {
        return newPeer(group, Duration.ofSeconds(BOUND_S));
    }

    private Communicator newPeer(final int group, final Duration topologyTimeout) {
        final Communicator c = Communicator.builder().masterAddress(LOOPBACK + ":" + master.port())
                .peerGroup(group).peerBasePort(0).bindHost(LOOPBACK).connectionsPerPeer(2)
                .connectTimeout(Duration.ofSeconds(BOUND_S)).topologyTimeout(topologyTimeout)
                .heartbeatInterval(Duration.ofMillis(200)).heartbeatTimeout(Duration.ofSeconds(3)).build();
        peers.add(c);
        return c;
    }

    private Future<?> async(final Runnable r) {
        return pool.submit(r);
    }

    private static void await(final Future<?> f) throws Exception {
        f.get(BOUND_S, TimeUnit.SECONDS);
    }

    /** Existing peers loop {pending? → updateTopology} until their group has {@code size} peers. */
    private Future<?> growTo(final Communicator c, final int size) {
        return async(() -> {
            while (c.peerGroupWorldSize() < size) {
                if (c.arePeersPending()) {
                    c.updateTopology();
                }
            }
        });
    }

    private static void assertWorld(final List<Communicator> group, final int global, final int groupSize,
                                    final int groups, final int largest) {
        final List<Long> ring = group.get(0).ring();
        assertEquals(groupSize, ring.size(), "ring " + ring);
        for (Communicator c : group) {
            assertEquals(global, c.globalWorldSize(), "global world size of peer " + c.peerId());
            assertEquals(groupSize, c.peerGroupWorldSize(), "group world size of peer " + c.peerId());
            assertEquals(groups, c.numPeerGroups(), "groups seen by peer " + c.peerId());
            assertEquals(largest, c.largestPeerGroupWorldSize(), "largest group seen by peer " + c.peerId());
            assertEquals(ring, c.ring(), "ring of peer " + c.peerId());
            assertTrue(ring.contains(c.peerId()));
        }
    }

    @Test
    void peersJoinOneByOneWhileAcceptedPeersLoopOnUpdateTopology() throws Exception {
        final List<Communicator> joined = new ArrayList<>();
        final Communicator first = newPeer(0);
        first.connect();
        joined.add(first);
        assertWorld(joined, 1, 1, 1, 1);
        for (int size = 2; size <= 4; size++) {
            final Communicator next = newPeer(0);
            final Future<?> connect = async(next::connect);
            final List<Future<?>> loops = new ArrayList<>();
            for (Communicator c : joined) {
                loops.add(growTo(c, size));
            }
            await(connect);
            for (Future<?> f : loops) {
                await(f);
            }
            joined.add(next);
            assertWorld(joined, size, size, 1, size);
        }
        // Everyone is in: the joint pending query says no, and a further update keeps the ring.
        final List<Long> ring = first.ring();
        final List<Future<Boolean>> answers = new ArrayList<>();
        for (Communicator c : joined) {
            answers.add(pool.submit(c::arePeersPending));
        }
        for (Future<Boolean> a : answers) {
            assertFalse(a.get(BOUND_S, TimeUnit.SECONDS));
        }
        final List<Future<?>> updates = new ArrayList<>();
        for (Communicator c : joined) {
            updates.add(async(c::updateTopology));
        }
        for (Future<?> f : updates) {
            await(f);
        }
        assertEquals(ring, first.ring());
    }

    @Test
    void aGroupStalledMidVoteDoesNotBlockAnotherGroup() throws Exception {
        final Communicator a = newPeer(0);
        a.connect();
        final Communicator b = newPeer(0);
        final Future<?> bJoin = async(b::connect);
        final Future<?> aGrow = growTo(a, 2);
        await(bJoin);
        await(aGrow);
        final Communicator c = newPeer(1);
        c.connect();
        final Communicator d = newPeer(1);
        final Future<?> dJoin = async(d::connect);
        final Future<?> cGrow = growTo(c, 2);
        await(dJoin);
        await(cGrow);

        // Group 0 stalls: a votes, b does not (yet).
        final Future<?> aVote = async(a::updateTopology);
        final Future<?> cVote = async(c::updateTopology);
        final Future<?> dVote = async(d::updateTopology);
        await(cVote);
        await(dVote);
        assertWorld(List.of(c, d), 4, 2, 2, 2);
        assertFalse(aVote.isDone(), "group 0's vote cannot finish without b");
        final Future<?> bVote = async(b::updateTopology);
        await(aVote);
        await(bVote);
        assertWorld(List.of(a, b), 4, 2, 2, 2);
    }

    @Test
    void aPeerClosedDuringAnAcceptVoteDoesNotHangTheOthers() throws Exception {
        final Communicator a = newPeer(0);
        a.connect();
        final Communicator b = newPeer(0);
        final Communicator c = newPeer(0);
        final Future<?> bJoin = async(b::connect);
        final Future<?> aGrow = growTo(a, 2);
        await(bJoin);
        await(aGrow);
        final Future<?> cJoin = async(c::connect);
        final Future<?> aGrow3 = growTo(a, 3);
        final Future<?> bGrow3 = growTo(b, 3);
        await(cJoin);
        await(aGrow3);
        await(bGrow3);
        assertWorld(List.of(a, b, c), 3, 3, 1, 3);

        // A newcomer registers; once the group sees it pending, a and b vote to accept it and c, which has not
        // voted yet, dies: the vote must complete without c instead of waiting for it.
        final Communicator d = newPeer(0);
        final Future<?> dJoin = async(d::connect);
        while (!jointPending(List.of(a, b, c))) {
            assertFalse(dJoin.isDone(), "d cannot be accepted without a vote");
        }
        final long cId = c.peerId();
        final Future<?> aVote = async(a::updateTopology);
        final Future<?> bVote = async(b::updateTopology);
        c.close();
        await(aVote);
        await(bVote);
        await(dJoin);
        assertWorld(List.of(a, b, d), 3, 3, 1, 3);
        assertFalse(a.ring().contains(cId), "lost peer " + cId + " left the ring " + a.ring());
        // The next joint call of the survivors and the newcomer succeeds.
        final List<Future<?>> again = new ArrayList<>();
        for (Communicator x : List.of(a, b, d)) {
            again.add(async(x::updateTopology));
        }
        for (Future<?> f : again) {
            await(f);
        }
        assertWorld(List.of(a, b, d), 3, 3, 1, 3);
    }

    @Test
    void losingTheMasterFailsBlockedAndLaterCallsWithMasterLost() throws Exception {
        final Communicator a = newPeer(0);
        a.connect();
        final Communicator b = newPeer(0);
        final Future<?> bJoin = async(b::connect);
        final Future<?> aGrow = growTo(a, 2);
        await(bJoin);
        await(aGrow);
        final Future<?> blocked = async(a::updateTopology);
        master.close();
        final ExecutionException e = assertThrows(ExecutionException.class,
                () -> blocked.get(BOUND_S, TimeUnit.SECONDS));
        assertInstanceOf(MasterLostException.class, e.getCause());
        final MasterLostException later = assertThrows(MasterLostException.class, b::arePeersPending);
        assertTrue(later.getMessage().contains(LOOPBACK + ":"), later.getMessage());
    }

    @Test
    void anIllegalCallIsKickedWithTheMastersReason() throws Exception {
        final Communicator a = newPeer(0, Duration.ofMillis(500));
        a.connect();
        final Communicator b = newPeer(0);
        final Future<?> bJoin = async(b::connect);
        final Future<?> aGrow = growTo(a, 2);
        await(bJoin);
        await(aGrow);
        // b never votes, so a's update times out while a's vote stays open at the master ...
        final TopologyUpdateFailedException timeout = assertThrows(TopologyUpdateFailedException.class,
                a::updateTopology);
        assertEquals(PcclException.Code.TIMEOUT, timeout.code());
        assertTrue(timeout.getMessage().contains("topologyTimeout 500 ms"), timeout.getMessage());
        // ... and a query in the middle of that vote is illegal: the master kicks a with a reason.
        final KickedException kicked = assertThrows(KickedException.class, a::arePeersPending);
        assertTrue(kicked.getMessage().contains("pending-peers query"), kicked.getMessage());
    }

    @Test
    void ringNeighboursArePooledAndOtherRolesReachTheirHandler() throws Exception {
        final Communicator a = newPeer(0);
        final CompletableFuture<Long> benchmarkFrom = new CompletableFuture<>();
        a.session().roleHandler(ConnectionRole.ROLE_BENCHMARK, (hello, ch) -> {
            ch.writeAndFlush(Envelopes.helloAck(7));
            benchmarkFrom.complete(hello.getPeerId());
        });
        a.connect();
        final Communicator b = newPeer(0);
        final Communicator c = newPeer(0);
        final Future<?> bJoin = async(b::connect);
        final Future<?> aGrow = growTo(a, 2);
        await(bJoin);
        await(aGrow);
        final Future<?> cJoin = async(c::connect);
        final Future<?> aGrow3 = growTo(a, 3);
        final Future<?> bGrow3 = growTo(b, 3);
        await(cJoin);
        await(aGrow3);
        await(bGrow3);
        assertWorld(List.of(a, b, c), 3, 3, 1, 3);
        final List<Long> ring = a.ring();
        for (Communicator x : List.of(a, b, c)) {
            final P2PConnections p2p = x.session().p2p();
            final int at = ring.indexOf(x.peerId());
            final long next = ring.get((at + 1) % 3);
            final long prev = ring.get((at + 2) % 3);
            assertEquals(next, p2p.successor());
            assertEquals(prev, p2p.predecessor());
            assertEquals(2, p2p.outgoing(next).length, "pool of peer " + x.peerId() + " to " + next);
            assertEquals(0, p2p.outgoing(prev).length, "no pool of peer " + x.peerId() + " to its predecessor");
            final Channel[] in = p2p.incoming(prev);
            assertEquals(2, in.length);
            for (Channel ch : in) {
                assertTrue(ch != null && ch.isActive(), "incoming pool of peer " + x.peerId() + " from " + prev);
            }
        }
        try (Socket s = new Socket(LOOPBACK, a.session().listenPort())) {
            s.setSoTimeout(10_000);
            final DataOutputStream out = new DataOutputStream(s.getOutputStream());
            final byte[] hello = Envelopes.hello(ConnectionRole.ROLE_BENCHMARK, 99, 0, 0).toByteArray();
            out.writeInt(hello.length);
            out.write(hello);
            out.flush();
            final DataInputStream in = new DataInputStream(s.getInputStream());
            final byte[] reply = new byte[in.readInt()];
            in.readFully(reply);
            assertEquals(7, Envelope.parseFrom(reply).getHelloAck().getPeerId());
            assertEquals(99L, benchmarkFrom.get(BOUND_S, TimeUnit.SECONDS));
        }
    }

    private boolean jointPending(final List<Communicator> group) throws Exception {
        final List<Future<Boolean>> answers = new ArrayList<>();
        for (Communicator c : group) {
            answers.add(pool.submit(c::arePeersPending));
        }
        boolean pending = answers.get(0).get(BOUND_S, TimeUnit.SECONDS);
        for (Future<Boolean> f : answers) {
            assertEquals(pending, f.get(BOUND_S, TimeUnit.SECONDS), "every voter gets the same answer");
        }
        return pending;
    }
}
