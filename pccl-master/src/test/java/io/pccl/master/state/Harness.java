package io.pccl.master.state;

import io.pccl.master.state.election.EntryVote;
import io.pccl.master.state.election.VoteStrategy;
import java.util.List;

/**
 * A state machine in virtual time with a recording outbox and shortcuts for common sequences.
 *
 * <p>Not thread-safe.
 */
final class Harness {
    static final long SECOND_NS = 1_000_000_000L;
    static final long TIMEOUT_NS = 5 * SECOND_NS;
    static final CollectiveParams PARAMS = new CollectiveParams(1024, "DT_FLOAT32", "OP_SUM", "QUANT_NONE",
            "DT_UNSPECIFIED");

    final RecordingOutbox out = new RecordingOutbox();
    final MasterStateMachine machine = new MasterStateMachine(out, TIMEOUT_NS);
    long nowNs = 1_000;
    private long nextConnection = 100;

    /** Registers a loopback peer in {@code group}; returns the events it caused. */
    List<String> register(final int group) {
        machine.onRegister(nextConnection++, "127.0.0.1", true, 40000 + (int) nextConnection, group, nowNs);
        return out.take();
    }

    /** Reports ok for the current round of every listed peer. */
    void reportOk(final long round, final long... peerIds) {
        for (final long id : peerIds) {
            machine.onP2PReport(id, round, true, new long[0]);
        }
    }

    /** Registers the first peer of a group and completes its lone round; returns its id. */
    long joinFirst(final int group, final long expectedId, final long round) {
        register(group);
        reportOk(round, expectedId);
        out.take();
        return expectedId;
    }

    /** Every listed peer votes establish with {@code accept}. */
    void vote(final boolean accept, final long... peerIds) {
        for (final long id : peerIds) {
            machine.onEstablishVote(id, accept);
        }
    }

    /** Builds group 0 with accepted peers 1..n (rounds 1 and 2) and clears the events. */
    void acceptedGroup(final int n) {
        joinFirst(0, 1, 1);
        if (n == 1) {
            return;
        }
        final long[] all = new long[n];
        for (int i = 0; i < n; i++) {
            all[i] = i + 1;
            if (i > 0) {
                register(0);
            }
        }
        vote(true, 1);
        reportOk(2, all);
        out.take();
    }

    /** A 1024-byte UINT8 entry hashed with simplehash. */
    static EntryVote entry(final String key, final long hash) {
        return new EntryVote(key, hash, 0, 1024, 1, false);
    }

    /** {@code peer} votes a sync at {@code revision} with ENFORCE_POPULAR. */
    void sync(final long peer, final long revision, final EntryVote... entries) {
        machine.onSyncVote(peer, revision, VoteStrategy.ENFORCE_POPULAR, List.of(entries));
    }

    /** {@code peer} votes a sync with one entry "key1" of content {@code hash}. */
    void sync(final long peer, final long revision, final VoteStrategy strategy, final long hash) {
        machine.onSyncVote(peer, revision, strategy, List.of(entry("key1", hash)));
    }

    /** Every listed peer completes its sync with {@code success}. */
    void complete(final boolean success, final long... peerIds) {
        for (final long id : peerIds) {
            machine.onSyncComplete(id, success);
        }
    }

    long advance(final long deltaNs) {
        nowNs += deltaNs;
        return nowNs;
    }
}
