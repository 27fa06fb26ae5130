package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Replays a random script of legal and illegal inputs twice: the output sequences are identical, and the
 * machine never throws, never emits two Done for one (peer, tag, seq), and never kicks with an INTERNAL code.
 */
class DeterminismTest {
    private static final long SEED = 20261128L;

    @Test
    void shouldProduceIdenticalOutputForIdenticalInputs() {
        System.out.println("DeterminismTest seed " + SEED);
        int commences = 0;
        int sharedRounds = 0;
        for (int script = 0; script < 20; script++) {
            final List<String> first = run(SEED + script);
            final List<String> second = run(SEED + script);
            assertTrue(first.size() > 50, "script " + script + " produced only " + first.size() + " events");
            assertEquals(first, second, "seed " + (SEED + script));
            final Map<String, Integer> dones = new HashMap<>();
            for (final String e : first) {
                assertTrue(!e.contains("INTERNAL"), e);
                commences += e.startsWith("commence ") ? 1 : 0;
                sharedRounds += e.startsWith("result ") && e.contains(" ok [") && e.contains(",") ? 1 : 0;
                if (e.startsWith("done ") && !e.contains(" seq0 failed COLLECTIVE_MISMATCH")) {
                    final String key = e.substring(0, e.indexOf(' ', e.indexOf("seq")));
                    assertEquals(null, dones.put(key, 1), "second done: " + e);
                }
            }
        }
        assertTrue(commences > 0 && sharedRounds > 0, "scripts too weak: " + commences + " commences, "
                + sharedRounds + " multi-peer round results");
    }

    private static List<String> run(final long seed) {
        final Random rnd = new Random(seed);
        final Harness h = new Harness();
        for (int step = 0; step < 600; step++) {
            final List<Long> ids = h.machine.peerIds();
            final long peer = ids.isEmpty() || rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(40)
                    : ids.get(rnd.nextInt(ids.size()));
            final long round = Math.max(1, h.machine.peekNextRoundId() - 1 - rnd.nextInt(2));
            switch (rnd.nextInt(12)) {
                case 0 -> h.machine.onRegister(step, "127.0.0.1", true, 40000 + step, rnd.nextInt(2), h.nowNs);
                case 1, 2 -> h.machine.onEstablishVote(peer, rnd.nextInt(4) != 0);
                case 3, 4 -> h.machine.onP2PReport(peer, round, rnd.nextInt(5) != 0,
                        new long[] {1 + rnd.nextInt(40)});
                case 5 -> h.machine.onPendingQuery(peer);
                case 6 -> h.machine.onCollectiveInitiate(peer, rnd.nextInt(3),
                        new CollectiveParams(rnd.nextInt(8) == 0 ? 1 : 2, "DT_FLOAT32", "OP_SUM", "QUANT_NONE", "X"));
                case 7 -> h.machine.onCollectiveComplete(peer, rnd.nextInt(3), rnd.nextInt(4), rnd.nextInt(6) == 0);
                case 8 -> {
                    if (rnd.nextInt(3) == 0) {
                        h.machine.onDisconnected(peer);
                    }
                }
                default -> {
                    h.machine.onHeartbeat(peer, h.advance(rnd.nextInt(1_000_000_000)));
                    h.machine.doWork(h.nowNs);
                }
            }
        }
        return h.out.events;
    }
}
