package io.pccl.master.state;

import io.pccl.master.state.election.KeyToFetch;
import java.util.ArrayList;
import java.util.List;

/**
 * Records every outbox call as one line of text, so tests assert exact output sequences.
 *
 * <p>Not thread-safe.
 */
final class RecordingOutbox implements MasterOutbox {
    final List<String> events = new ArrayList<>();

    /** Returns the events recorded since the last call and forgets them. */
    List<String> take() {
        final List<String> copy = new ArrayList<>(events);
        events.clear();
        return copy;
    }

    static String world(final WorldSizes w) {
        return w.global() + "/" + w.peerGroup() + "/" + w.numPeerGroups() + "/" + w.largestPeerGroup();
    }

    @Override
    public void registered(final long connectionId, final long peerId) {
        events.add("registered c" + connectionId + " -> " + peerId);
    }

    @Override
    public void registrationRefused(final long connectionId, final MasterError code, final String reason) {
        events.add("refused c" + connectionId + " " + code + " " + reason);
    }

    @Override
    public void p2pConnectionInfo(final long peerId, final long round, final List<PeerEndpoint> ring,
                                  final WorldSizes world) {
        final List<Long> ids = new ArrayList<>();
        for (final PeerEndpoint e : ring) {
            ids.add(e.peerId());
        }
        events.add("info " + peerId + " r" + round + " " + ids + " " + world(world));
    }

    @Override
    public void p2pEstablishResult(final long peerId, final long round, final boolean success, final List<Long> ring,
                                   final WorldSizes world, final String reason) {
        events.add("result " + peerId + " r" + round + (success ? " ok " + ring + " " + world(world)
                : " failed: " + reason));
    }

    @Override
    public void optimizeWork(final long peerId, final List<PeerEndpoint> targets) {
        final List<Long> ids = new ArrayList<>();
        for (final PeerEndpoint e : targets) {
            ids.add(e.peerId());
        }
        events.add("work " + peerId + " " + ids);
    }

    @Override
    public void optimizeDone(final long peerId, final boolean success, final List<Long> ring,
                             final double bottleneckMbps, final boolean exact, final MasterError code,
                             final String reason) {
        events.add("optimized " + peerId + (success ? " ok " + ring + " " + bottleneckMbps + (exact ? " exact" : "")
                : " failed " + code + " " + reason));
    }

    @Override
    public void peersPending(final long peerId, final boolean pending) {
        events.add("pending " + peerId + " " + pending);
    }

    @Override
    public void collectiveCommence(final long peerId, final long tag, final long seq, final List<Long> ring) {
        events.add("commence " + peerId + " tag" + tag + " seq" + seq + " " + ring);
    }

    @Override
    public void collectiveAbort(final long peerId, final long tag, final long seq, final MasterError code,
                                final String reason) {
        events.add("abort " + peerId + " tag" + tag + " seq" + seq + ": " + reason);
    }

    @Override
    public void collectiveDone(final long peerId, final long tag, final long seq, final boolean success,
                               final MasterError code, final String reason) {
        events.add("done " + peerId + " tag" + tag + " seq" + seq + (success ? " ok" : " failed " + code + ": "
                + reason));
    }

    @Override
    public void establishRefused(final long peerId, final MasterError code, final String reason) {
        events.add("establish refused " + peerId + " " + code + ": " + reason);
    }

    @Override
    public void pendingQueryRefused(final long peerId, final MasterError code, final String reason) {
        events.add("pending refused " + peerId + " " + code + ": " + reason);
    }

    /** "sync 3 r5 distribute" or "sync 3 r5 fetch [key1#42] from [1, 2]". */
    @Override
    public void syncResponse(final long peerId, final boolean outdated, final long revision,
                             final List<PeerEndpoint> distributors, final List<KeyToFetch> keys) {
        if (!outdated) {
            events.add("sync " + peerId + " r" + revision + " distribute" + (distributors.isEmpty() && keys.isEmpty()
                    ? "" : " BAD " + distributors + keys));
            return;
        }
        final List<String> k = new ArrayList<>();
        for (final KeyToFetch f : keys) {
            k.add(f.key() + "#" + f.expectedHash());
        }
        final List<Long> d = new ArrayList<>();
        for (final PeerEndpoint e : distributors) {
            d.add(e.peerId());
        }
        events.add("sync " + peerId + " r" + revision + " fetch " + k + " from " + d);
    }

    @Override
    public void syncFailed(final long peerId, final MasterError code, final String reason) {
        events.add("sync " + peerId + " failed " + code + ": " + reason);
    }

    @Override
    public void syncDone(final long peerId, final boolean success, final String reason) {
        events.add("sync done " + peerId + (success ? " ok" : " failed: " + reason));
    }

    @Override
    public void kick(final long peerId, final MasterError code, final String reason) {
        events.add("kick " + peerId + " " + code + ": " + reason);
    }
}
