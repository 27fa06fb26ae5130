package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.election.VoteStrategy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Replays a random script of legal and illegal inputs twice: the output sequences are identical, and the
 * machine never throws, never emits two Done for one (peer, tag, seq), sends each sync participant exactly one
 * sync Done after its response, and never kicks with an INTERNAL code.
 */
class DeterminismTest {
    private static final long SEED = 20261128L;

    @Test
    void shouldProduceIdenticalOutputForIdenticalInputs() {
        System.out.println("DeterminismTest seed " + SEED);
        int commences = 0;
        int sharedRounds = 0;
        int syncDones = 0;
        for (int script = 0; script < 20; script++) {
            final List<String> first = run(SEED + script);
            final List<String> second = run(SEED + script);
            assertTrue(first.size() > 50, "script " + script + " produced only " + first.size() + " events");
            assertEquals(first, second, "seed " + (SEED + script));
            final Map<String, Integer> dones = new HashMap<>();
            final Map<String, Boolean> syncing = new HashMap<>();
            for (final String e : first) {
                assertTrue(!e.contains("INTERNAL"), e);
                commences += e.startsWith("commence ") ? 1 : 0;
                sharedRounds += e.startsWith("result ") && e.contains(" ok [") && e.contains(",") ? 1 : 0;
                final String[] w = e.split(" ");
                if (e.startsWith("sync done ")) {
                    syncDones++;
                    assertEquals(Boolean.TRUE, syncing.put(w[2], false), "sync done without response: " + e);
                } else if (e.startsWith("sync ") && !w[2].equals("failed")) {
                    assertTrue(syncing.put(w[1], true) != Boolean.TRUE, "second sync response before done: " + e);
                } else if (e.startsWith("kick ")) {
                    syncing.remove(w[1]);
                }
                if (e.startsWith("done ") && !e.contains(" seq0 failed COLLECTIVE_MISMATCH")
                        && !e.contains(" seq0 failed FAILED_PRECONDITION")) {
                    final String key = e.substring(0, e.indexOf(' ', e.indexOf("seq")));
                    assertEquals(null, dones.put(key, 1), "second done: " + e);
                }
            }
        }
        assertTrue(commences > 0 && sharedRounds > 0 && syncDones > 0, "scripts too weak: " + commences
                + " commences, " + sharedRounds + " multi-peer round results, " + syncDones + " sync dones");
        System.out.println("DeterminismTest: " + commences + " commences, " + sharedRounds + " multi-peer rounds, "
                + syncDones + " sync dones");
    }

    private static List<String> run(final long seed) {
        final Random rnd = new Random(seed);
        final Harness h = new Harness();
        for (int step = 0; step < 600; step++) {
            final List<Long> ids = h.machine.peerIds();
            if (ids.size() < 3 || rnd.nextInt(15) == 0) {
                h.machine.onRegister(step, "127.0.0.1", true, 40000 + step, rnd.nextInt(2), h.nowNs);
                continue;
            }
            final long peer = ids.get(rnd.nextInt(ids.size()));
            if (rnd.nextInt(8) == 0) {
                hostile(h, rnd, peer);
            } else {
                legal(h, rnd, peer);
            }
        }
        return h.out.events;
    }

    /** An input that is legal in the peer's current phase (most of the time). */
    private static void legal(final Harness h, final Random rnd, final long peer) {
        final Peer p = h.machine.peer(peer);
        switch (p.phase()) {
            case CONNECTING -> h.machine.onP2PReport(peer, p.round, rnd.nextInt(12) != 0,
                    rnd.nextInt(3) == 0 ? new long[] {1 + rnd.nextInt(40)} : new long[0]);
            case IDLE -> {
                if (!p.activeTags.isEmpty() && rnd.nextBoolean()) {
                    final long tag = p.activeTags.first();
                    h.machine.onCollectiveComplete(peer, tag, seqOf(h, peer, tag), rnd.nextInt(10) == 0);
                    return;
                }
                switch (rnd.nextInt(5)) {
                    case 0 -> h.machine.onEstablishVote(peer, rnd.nextInt(4) != 0);
                    case 1 -> h.machine.onPendingQuery(peer);
                    case 2 -> syncVote(h, rnd, peer, p.group);
                    default -> h.machine.onCollectiveInitiate(peer, rnd.nextInt(3), new CollectiveParams(
                            rnd.nextInt(20) == 0 ? 1 : 2, "DT_FLOAT32", "OP_SUM", "QUANT_NONE", "X"));
                }
            }
            case SYNCING -> h.machine.onSyncComplete(peer, rnd.nextInt(10) != 0);
            default -> {
                h.machine.onHeartbeat(peer, h.advance(rnd.nextInt(500_000_000)));
                h.machine.doWork(h.nowNs);
            }
        }
    }

    /** A sync vote at the group's expected revision (rarely one off), mostly ENFORCE_POPULAR, two contents. */
    private static void syncVote(final Harness h, final Random rnd, final long peer, final int group) {
        final long expected = h.machine.expectedSyncRevision(group).orElse(rnd.nextInt(3));
        final long revision = rnd.nextInt(10) == 0 ? expected + rnd.nextInt(3) - 1 : expected;
        final VoteStrategy[] strategies = VoteStrategy.values();
        final VoteStrategy strategy = rnd.nextInt(10) == 0 ? strategies[rnd.nextInt(3)] : VoteStrategy.ENFORCE_POPULAR;
        h.machine.onSyncVote(peer, Math.max(0, revision), strategy, List.of(Harness.entry("key1", rnd.nextInt(2)),
                Harness.entry(rnd.nextInt(20) == 0 ? "odd" : "key2", 5)));
    }

    /** Any input, legal or not, a disconnect, or silence until others time out. */
    private static void hostile(final Harness h, final Random rnd, final long peer) {
        switch (rnd.nextInt(10)) {
            case 0 -> h.machine.onEstablishVote(peer, rnd.nextBoolean());
            case 1 -> h.machine.onP2PReport(peer, 1 + rnd.nextInt((int) h.machine.peekNextRoundId()), false,
                    new long[] {1 + rnd.nextInt(40)});
            case 2 -> h.machine.onPendingQuery(peer);
            case 3 -> h.machine.onCollectiveComplete(peer, rnd.nextInt(3), rnd.nextInt(4), rnd.nextBoolean());
            case 4 -> h.machine.onDisconnected(peer);
            case 5 -> h.machine.onCollectiveInitiate(peer, rnd.nextInt(3), Harness.PARAMS);
            case 6 -> syncVote(h, rnd, peer, h.machine.peer(peer).group);
            case 7 -> h.machine.onSyncComplete(peer, rnd.nextBoolean());
            default -> {
                h.machine.onHeartbeat(peer, h.advance(rnd.nextInt(1_000_000_000)));
                h.machine.doWork(h.nowNs);
            }
        }
    }

    private static long seqOf(final Harness h, final long peer, final long tag) {
        final String prefix = "commence " + peer + " tag" + tag + " seq";
        for (int i = h.out.events.size() - 1; i >= 0; i--) {
            final String e = h.out.events.get(i);
            if (e.startsWith(prefix)) {
                return Long.parseLong(e.substring(prefix.length(), e.indexOf(' ', prefix.length())));
            }
        }
        return 0;
    }
}
