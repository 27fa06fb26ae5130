package io.pccl.bench;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A short run of the churn harness with a fixed seed: peer JVMs train while the harness SIGKILLs some, asks some
 * to leave, freezes some past the heartbeat timeout, starts others and restarts the master twice. The run must
 * pass (parity at every revision, liveness, no peer failing on its own, every peer asked to stop exits 0), and
 * churn must really have happened. A second run does the same with the master daemon in its own JVM, which it
 * stops, SIGKILLs and freezes.
 */
@Tag("slow")
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ChurnHarnessTest {
    private static final long SEED = 20261129L;

    /** 3 to 4 peers with 64 Ki weights in 2 operations; leaves 0.15 and 4 s freezes of the stepping peers' removals. */
    private static Churn smallChurn(final long seed, final int durationS) {
        final Churn churn = new Churn();
        churn.seed = seed;
        churn.durationS = durationS;
        churn.initialPeers = 3;
        churn.minPeers = 2;
        churn.maxPeers = 4;
        churn.elements = 1 << 16;
        churn.ops = 2;
        churn.stallTimeoutS = 60;
        churn.exitTimeoutS = 60;
        churn.leaveShare = 0.15;
        churn.freezeForS = 4;
        return churn;
    }

    @Test
    void peersKilledAndStartedAtRandomKeepTrainingBitIdentical() throws Exception {
        System.out.println("ChurnHarnessTest seed " + SEED);
        final Churn churn = smallChurn(SEED, 20);
        churn.intervalMs = new long[] {300, 900};
        churn.killWeight = 0.5;
        churn.masterRestartEveryS = 8;
        churn.freezeShare = 0.25;
        // A loaded machine makes newcomers step late, and only stepping peers beyond --min-peers can be removed:
        // churn goes on past 20 s (at most to 60 s) until these happened. A master restart waits for a step since the
        // previous one, so the second may come after 20 s too.
        churn.minKills = 2;
        churn.minRemovals = 4;
        churn.minMasterRemovals = 2;

        final Churn.Result r = churn.run();

        assertTrue(r.failures().isEmpty(), () -> "churn failed: " + r.failures());
        assertTrue(r.kills() >= 2 && r.kills() + r.freezes() + r.leaves() >= 4, () -> "expected at least 4 "
                + "removals of stepping peers, at least 2 of them SIGKILLs, got " + r);
        assertTrue(r.startingKills() >= 1, () -> "expected a SIGKILL of a peer before its first step, got " + r);
        assertTrue(r.spawns() >= churn.initialPeers + 3, () -> "expected at least 3 peers started mid-run, got " + r);
        assertTrue(r.revisionsChecked() >= 10, () -> "expected at least 10 revisions reported by two or more peers, "
                + "got " + r);
        assertEquals(2, r.masterRestarts(), () -> "the master restarts twice, 8 s or more apart: " + r);
        assertTrue(r.reconnects() >= r.masterRestarts(), () -> "peers reconnect after each restart: " + r);
        // Every kill but possibly one in the last moments is followed by a step of the survivors.
        assertTrue(r.recoveryMs().size() >= r.kills() - 1, () -> "survivors did not step after each kill: " + r);
        assertEquals(r.spawns() - r.kills() - r.startingKills(), r.cleanExits(),
                () -> "every peer not killed exits 0 after stop: " + r);
        assertTrue(r.communicatorLives() >= r.cleanExits(), () -> "every clean exit reports its stats: " + r);
    }

    /**
     * The master daemon in its own JVM is stopped (SIGTERM), SIGKILLed and frozen (SIGSTOP) for 4 s, past the peers'
     * 3 s heartbeat timeout, 8 s or more apart (at 8, 16 and 24 s when the peers step in time), while peers come and
     * go. After each, the peers must find a master again and step, keeping one lineage. Every connection is mutual
     * TLS with the shared key proved inside ({@code --tls --auth}), the peers presenting two certificate names in
     * turn, so each new daemon and each newcomer go through both handshakes and the name checks under churn.
     */
    @Test
    void aMasterDaemonStoppedKilledAndFrozenCostsNoStateAndNoPeer() throws Exception {
        final long seed = SEED + 1;
        System.out.println("ChurnHarnessTest (master daemon, TLS and shared key) seed " + seed);
        // 8 s between removals: on a loaded 2-core machine a TLS daemon JVM takes several seconds to start and the
        // first TLS peers step only after about 6 s, so with 6 s some runs had barely stepped at all.
        final Churn churn = smallChurn(seed, 30);
        churn.secure.tls = true;
        churn.secure.auth = true;
        churn.intervalMs = new long[] {400, 1200};
        churn.killWeight = 0.4;
        churn.masterProcess = true;
        churn.masterRestartEveryS = 8;
        churn.masterFreezeForS = 4;
        // Each new daemon reads its predecessor's state file: a restored group must sync again at once (its peers
        // vote the revision in the file or the next), or the step after a stop or crash would wait for the grace.
        churn.masterStateFile = true;
        churn.freezeShare = 0.1;
        // Each removal waits for a step since the previous one (the first TLS peers step after about 6 s here, a new
        // TLS daemon listens after up to 6 s under load): churn goes on past 30 s until all three happened and
        // were each followed by a step.
        churn.minMasterRemovals = 3;

        final Churn.Result r = churn.run();

        assertTrue(r.failures().isEmpty(), () -> "churn failed: " + r.failures());
        assertEquals(3, r.masterRestarts(), () -> "the master is stopped, killed and frozen: " + r);
        assertEquals(3, r.masterRecoveryMs().size(), () -> "a step follows each removal of the master: " + r);
        assertTrue(r.reconnects() >= 3, () -> "peers reconnect after each removal: " + r);
        assertTrue(r.revisionsChecked() >= 10, () -> "expected at least 10 revisions reported by two or more peers, "
                + "got " + r);
        assertTrue(r.spawns() >= churn.initialPeers + 2, () -> "expected at least 2 peers started mid-run, got " + r);
        assertEquals(r.spawns() - r.kills() - r.startingKills(), r.cleanExits(),
                () -> "every peer not killed exits 0 after stop: " + r);
    }

    /**
     * Async DiLoCo under churn ({@code docs/diloco.md}): the all-reduce of each step's pseudo-gradients runs on a
     * background thread behind the next inner steps while peers are SIGKILLed, leave, freeze, join and the master
     * restarts once; and the group optimizes its ring after every tenth revision's sync, measuring its newcomers'
     * links under the same churn. The outer parameters and momentum must stay bit-identical at every revision.
     */
    @Test
    void asyncDiLoCoAndRingOptimizationUnderChurnKeepTheOuterStateBitIdentical() throws Exception {
        final long seed = SEED + 2;
        System.out.println("ChurnHarnessTest (async DiLoCo) seed " + seed);
        final Churn churn = smallChurn(seed, 20);
        churn.step.algorithm = TrainingPeer.Algorithm.ASYNC_DILOCO;
        churn.step.innerSteps = 5;
        churn.intervalMs = new long[] {300, 900};
        churn.killWeight = 0.5;
        churn.masterRestartEveryS = 12;
        churn.freezeShare = 0.2;
        churn.step.optimizeEvery = 10;
        churn.minKills = 2; // past 20 s if need be, as above
        churn.minMasterRemovals = 1;

        final Churn.Result r = churn.run();

        assertTrue(r.failures().isEmpty(), () -> "churn failed: " + r.failures());
        assertTrue(r.kills() >= 2, () -> "expected at least 2 SIGKILLs of stepping peers, got " + r);
        assertTrue(r.spawns() >= churn.initialPeers + 3, () -> "expected at least 3 peers started mid-run, got " + r);
        assertTrue(r.revisionsChecked() >= 10, () -> "expected at least 10 revisions reported by two or more peers, "
                + "got " + r);
        assertEquals(1, r.masterRestarts(), () -> "the master restarts once, at 12 s or later: " + r);
        assertTrue(r.optimizations() >= 4, () -> "expected optimizeTopology() to return on some peers at two or more "
                + "revisions, got " + r);
        assertTrue(r.recoveryMs().size() >= r.kills() - 1, () -> "survivors did not step after each kill: " + r);
        assertEquals(r.spawns() - r.kills() - r.startingKills(), r.cleanExits(),
                () -> "every peer not killed exits 0 after stop: " + r);
    }
}
