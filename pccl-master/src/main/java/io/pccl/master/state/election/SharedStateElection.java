package io.pccl.master.state.election;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Elects one group's shared state from its sync votes. A pure function: the same votes in any order give the
 * same result.
 *
 * <p>Rules, applied in this order (differences from the reference, §2.5/§2.6/§11, are marked *):
 * <ol>
 *   <li>A vote with no entries or with a duplicate key fails that voter (INVALID_VOTE)*.</li>
 *   <li>If the group mixes ENFORCE_POPULAR with SEND_ONLY, every SEND_ONLY voter fails. RECEIVE_ONLY voters mix
 *       with ENFORCE_POPULAR ones*: that is how a joiner takes the group's state without ever seeding it.</li>
 *   <li>Unless this is the group's first sync, a voter whose revision is ahead of the expected revision fails
 *       (REVISION_AHEAD); a voter behind is outdated and will receive content and revision.</li>
 *   <li>Candidates are the remaining non-RECEIVE_ONLY voters. None → everyone fails (NO_CANDIDATE). The target
 *       revision is the expected one; on a first sync it is the highest candidate revision*, so the result does
 *       not depend on arrival order. No candidate at the target revision → everyone fails (NO_CANDIDATE: the
 *       holders left).</li>
 *   <li>Among candidates at the target revision, the most common key set (names and, per key, count, data
 *       type, hash type, allowContentInequality) wins*, then the most common content within it; ties go to the
 *       set whose lowest holder peer id is smallest*. Keys are compared by name*, in full*.</li>
 *   <li>Each voter whose key set differs fails (KEY_SET_MISMATCH, naming each difference)*. Others fetch the
 *       keys whose hash differs; voters behind the target revision also fetch every allowContentInequality
 *       entry*. Nothing to fetch at the target revision → DISTRIBUTE; otherwise REQUEST from all holders of the
 *       elected content* (never RECEIVE_ONLY voters*), and a SEND_ONLY voter that would receive fails.</li>
 * </ol>
 * Recovery after every holder of the group's revision left (the reference's dead end, §11.2): the caller may
 * pass {@code firstSync = true} again, which elects from the highest revision still present.
 *
 * <p>A first sync may carry a <em>floor</em> ({@link HeldRevision}): the revision of the group's last successful
 * sync before the master restarted, and a fingerprint of the content it elected (the master's state file). Then
 * only candidates above that revision, or at it with that content, are elected from: a peer of that sync votes it
 * again with the elected content (it lost the master before changing its state and incrementing) or the next
 * revision, while a peer that missed it votes a lower revision, or the same number with other content (it
 * incremented its older revision). Without such a candidate every voter fails with NO_CANDIDATE and waits for a
 * holder to come back, so a peer that fell behind cannot seed the group with its older state.
 *
 * <p>Thread-safe (stateless).
 */
public final class SharedStateElection {
    private static final int MAX_NAMES_IN_REASON = 8;

    private SharedStateElection() {
    }

    /**
     * Runs the election.
     *
     * @param expectedRevision the revision the group expects in this sync (ignored when {@code firstSync})
     * @param firstSync true for the group's first sync (any revision is accepted)
     * @param votes one vote per voter, any order; peer ids must be distinct
     * @return the outcomes and the group's revision after the sync
     * @throws IllegalArgumentException if two votes carry the same peer id
     */
    public static ElectionResult elect(final long expectedRevision, final boolean firstSync,
                                       final Collection<SyncVote> votes) {
        return elect(expectedRevision, firstSync, null, votes);
    }

    /**
     * Runs the election of a sync that may carry a floor (see the class comment).
     *
     * @param expectedRevision the revision the group expects in this sync (ignored when {@code firstSync})
     * @param firstSync true for the group's first sync (any revision is accepted, within {@code floor})
     * @param floor with {@code firstSync}: what the group held before the master restarted, or null; ignored
     *     otherwise
     * @param votes one vote per voter, any order; peer ids must be distinct
     * @return the outcomes and the group's revision after the sync
     * @throws IllegalArgumentException if two votes carry the same peer id
     */
    public static ElectionResult elect(final long expectedRevision, final boolean firstSync, final HeldRevision floor,
                                       final Collection<SyncVote> votes) {
        final List<SyncVote> sorted = new ArrayList<>(votes);
        sorted.sort(Comparator.comparingLong(SyncVote::peerId));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).peerId() == sorted.get(i - 1).peerId()) {
                throw new IllegalArgumentException("duplicate vote from peer " + sorted.get(i).peerId());
            }
        }
        final Map<Long, PeerOutcome> out = new TreeMap<>();
        final Map<Long, TreeMap<String, EntryVote>> byName = new TreeMap<>();
        for (final SyncVote v : sorted) {
            final String invalid = indexEntries(v, byName);
            if (invalid != null) {
                out.put(v.peerId(), new PeerOutcome.Failed(FailureCode.INVALID_VOTE, invalid));
            }
        }
        failStrategyMix(sorted, out);
        if (!firstSync) {
            for (final SyncVote v : sorted) {
                if (!out.containsKey(v.peerId()) && Long.compareUnsigned(v.revision(), expectedRevision) > 0) {
                    out.put(v.peerId(), new PeerOutcome.Failed(FailureCode.REVISION_AHEAD, "peer " + v.peerId()
                            + " revision " + Long.toUnsignedString(v.revision()) + " is ahead of the group's expected "
                            + "revision " + Long.toUnsignedString(expectedRevision)
                            + "; a revision must advance by exactly one per sync"));
                }
            }
        }
        final List<SyncVote> candidates = new ArrayList<>();
        for (final SyncVote v : sorted) {
            if (!out.containsKey(v.peerId()) && v.strategy() != VoteStrategy.RECEIVE_ONLY) {
                candidates.add(v);
            }
        }
        final List<SyncVote> eligible = firstSync && floor != null ? aboveFloor(candidates, floor, byName)
                : candidates;
        if (eligible.isEmpty() && !candidates.isEmpty()) {
            failRemaining(sorted, out, FailureCode.NO_CANDIDATE, "no voter holds revision "
                    + Long.toUnsignedString(floor.revision()) + " with the content the group synced before the master"
                    + " restarted, or a later revision (highest voted: " + Long.toUnsignedString(highest(candidates))
                    + "); waiting for a peer that holds it");
            return new ElectionResult(new TreeMap<>(out), false, floor.revision(), List.of());
        }
        final long target = firstSync && !eligible.isEmpty() ? highest(eligible) : expectedRevision;
        final List<SyncVote> atTarget = new ArrayList<>();
        for (final SyncVote v : eligible) {
            if (v.revision() == target) {
                atTarget.add(v);
            }
        }
        if (atTarget.isEmpty()) {
            final String reason = candidates.isEmpty()
                    ? "no voter can provide shared state: every remaining voter is RECEIVE_ONLY or failed"
                    : "no voter holds the group's revision " + Long.toUnsignedString(target)
                    + " (its holders left or failed); voters behind cannot be updated";
            failRemaining(sorted, out, FailureCode.NO_CANDIDATE, reason);
            return new ElectionResult(new TreeMap<>(out), false, target, List.of());
        }
        final List<SyncVote> schemaHolders = mostPopular(atTarget, byName, false);
        final List<SyncVote> contentHolders = mostPopular(schemaHolders, byName, true);
        final TreeMap<String, EntryVote> elected = byName.get(contentHolders.get(0).peerId());
        final List<Long> distributors = new ArrayList<>();
        for (final SyncVote v : contentHolders) {
            distributors.add(v.peerId());
        }
        for (final SyncVote v : sorted) {
            if (!out.containsKey(v.peerId())) {
                out.put(v.peerId(), decide(v, byName.get(v.peerId()), elected, target, distributors));
            }
        }
        return new ElectionResult(new TreeMap<>(out), true, target, new ArrayList<>(elected.values()));
    }

    /** The highest revision (unsigned) of a non-empty list. */
    private static long highest(final List<SyncVote> votes) {
        long max = votes.get(0).revision();
        for (final SyncVote v : votes) {
            if (Long.compareUnsigned(v.revision(), max) > 0) {
                max = v.revision();
            }
        }
        return max;
    }

    /** The candidates above {@code floor}'s revision, or at it with its content. */
    private static List<SyncVote> aboveFloor(final List<SyncVote> candidates, final HeldRevision floor,
                                             final Map<Long, TreeMap<String, EntryVote>> byName) {
        final List<SyncVote> out = new ArrayList<>();
        for (final SyncVote v : candidates) {
            final int c = Long.compareUnsigned(v.revision(), floor.revision());
            if (c > 0 || c == 0 && contentFingerprint(byName.get(v.peerId()).values()) == floor.content()) {
                out.add(v);
            }
        }
        return out;
    }

    /**
     * A 64-bit fingerprint of a shared state's entries: names, shapes and, except for entries that allow content
     * inequality, content hashes. Two votes with the same entries have the same fingerprint; it is kept in the
     * master's state file, so it must not change between versions of the master.
     *
     * @param entries the entries in name order
     * @return the fingerprint
     */
    public static long contentFingerprint(final Collection<EntryVote> entries) {
        long h = 0x9E3779B97F4A7C15L;
        for (final EntryVote entry : entries) {
            final EntryVote e = identity(entry, true);
            for (int i = 0; i < e.key().length(); i++) {
                h = mix(h, e.key().charAt(i));
            }
            h = mix(h, e.key().length());
            h = mix(h, e.hashType());
            h = mix(h, e.count());
            h = mix(h, e.dataType());
            h = mix(h, e.allowContentInequality() ? 1 : 0);
            h = mix(h, e.hash());
        }
        return h;
    }

    /**
     * What of an entry decides whether two votes hold the same state: the entry with its hash zeroed when
     * {@code content} is false (the schema only) or when the entry allows content inequality. The popularity vote
     * and the content fingerprint both compare entries this way.
     */
    private static EntryVote identity(final EntryVote e, final boolean content) {
        final long hash = content && !e.allowContentInequality() ? e.hash() : 0;
        return hash == e.hash() ? e : new EntryVote(e.key(), hash, e.hashType(), e.count(), e.dataType(),
                e.allowContentInequality());
    }

    /** One step of the fingerprint: the value folded in, then SplitMix64's finalizer. */
    private static long mix(final long h, final long value) {
        long z = h + value * 0xBF58476D1CE4E5B9L + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static String indexEntries(final SyncVote v, final Map<Long, TreeMap<String, EntryVote>> byName) {
        final TreeMap<String, EntryVote> m = new TreeMap<>();
        byName.put(v.peerId(), m);
        if (v.entries().isEmpty()) {
            return "peer " + v.peerId() + ": shared state has 0 entries; at least 1 is required";
        }
        for (final EntryVote e : v.entries()) {
            if (m.putIfAbsent(e.key(), e) != null) {
                return "peer " + v.peerId() + ": duplicate shared-state key '" + e.key() + "'";
            }
        }
        return null;
    }

    private static void failStrategyMix(final List<SyncVote> sorted, final Map<Long, PeerOutcome> out) {
        final List<Long> enforcing = new ArrayList<>();
        for (final SyncVote v : sorted) {
            if (v.strategy() == VoteStrategy.ENFORCE_POPULAR) {
                enforcing.add(v.peerId());
            }
        }
        if (enforcing.isEmpty()) {
            return;
        }
        for (final SyncVote v : sorted) {
            if (v.strategy() == VoteStrategy.SEND_ONLY && !out.containsKey(v.peerId())) {
                out.put(v.peerId(), new PeerOutcome.Failed(FailureCode.STRATEGY_MIX, "peer " + v.peerId()
                        + " uses SEND_ONLY but peers " + names(enforcing) + " use ENFORCE_POPULAR; a group cannot "
                        + "mix ENFORCE_POPULAR with SEND_ONLY (RECEIVE_ONLY joiners are allowed)"));
            }
        }
    }

    private static void failRemaining(final List<SyncVote> sorted, final Map<Long, PeerOutcome> out,
                                      final FailureCode code, final String reason) {
        for (final SyncVote v : sorted) {
            out.putIfAbsent(v.peerId(), new PeerOutcome.Failed(code, reason));
        }
    }

    /**
     * Groups {@code voters} by key set (hashes ignored) or by full content and returns the holders of the most
     * common one, ascending by peer id; ties go to the group with the smallest first peer id.
     */
    private static List<SyncVote> mostPopular(final List<SyncVote> voters,
                                              final Map<Long, TreeMap<String, EntryVote>> byName,
                                              final boolean content) {
        final Map<List<EntryVote>, List<SyncVote>> groups = new LinkedHashMap<>();
        for (final SyncVote v : voters) {
            final List<EntryVote> key = new ArrayList<>();
            for (final EntryVote e : byName.get(v.peerId()).values()) {
                key.add(identity(e, content));
            }
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
        }
        List<SyncVote> best = null;
        // voters are ascending, so groups are met in order of their smallest peer id: strict > keeps the tie-break
        for (final List<SyncVote> g : groups.values()) {
            if (best == null || g.size() > best.size()) {
                best = g;
            }
        }
        return best;
    }

    private static PeerOutcome decide(final SyncVote v, final TreeMap<String, EntryVote> mine,
                                      final TreeMap<String, EntryVote> elected, final long target,
                                      final List<Long> distributors) {
        final String diff = keySetDiff(mine, elected);
        if (diff != null) {
            return new PeerOutcome.Failed(FailureCode.KEY_SET_MISMATCH, "peer " + v.peerId()
                    + ": shared-state keys differ from the elected ones: " + diff);
        }
        final boolean behind = v.revision() != target;
        final List<KeyToFetch> keys = new ArrayList<>();
        for (final EntryVote e : elected.values()) {
            final boolean fetch = e.allowContentInequality() ? behind : mine.get(e.key()).hash() != e.hash();
            if (fetch) {
                keys.add(new KeyToFetch(e.key(), e.hash(), e.hashType(), e.allowContentInequality()));
            }
        }
        if (!behind && keys.isEmpty()) {
            return new PeerOutcome.Distribute(distributors.contains(v.peerId()));
        }
        if (v.strategy() == VoteStrategy.SEND_ONLY) {
            final List<String> names = new ArrayList<>();
            for (final KeyToFetch k : keys) {
                names.add(k.key());
            }
            return new PeerOutcome.Failed(FailureCode.SEND_ONLY_MUST_RECEIVE, "peer " + v.peerId()
                    + " is SEND_ONLY but would have to receive " + (behind ? "revision "
                    + Long.toUnsignedString(target) + " (it holds " + Long.toUnsignedString(v.revision()) + ")"
                    + (names.isEmpty() ? "" : " and ") : "") + (names.isEmpty() ? "" : "keys " + names(names))
                    + " elected from peers " + names(distributors));
        }
        return new PeerOutcome.Request(keys, distributors);
    }

    private static String keySetDiff(final TreeMap<String, EntryVote> mine, final TreeMap<String, EntryVote> elected) {
        final List<String> missing = new ArrayList<>();
        final List<String> unexpected = new ArrayList<>();
        final List<String> shapes = new ArrayList<>();
        for (final EntryVote e : elected.values()) {
            final EntryVote m = mine.get(e.key());
            if (m == null) {
                missing.add(e.key());
            } else if (!m.sameShape(e)) {
                shapes.add("'" + e.key() + "' " + m.shapeDiff(e));
            }
        }
        for (final String k : mine.keySet()) {
            if (!elected.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (missing.isEmpty() && unexpected.isEmpty() && shapes.isEmpty()) {
            return null;
        }
        final StringBuilder sb = new StringBuilder();
        if (!missing.isEmpty()) {
            sb.append("missing keys ").append(names(missing)).append("; ");
        }
        if (!unexpected.isEmpty()) {
            sb.append("unexpected keys ").append(names(unexpected)).append("; ");
        }
        if (!shapes.isEmpty()) {
            sb.append(names(shapes)).append("; ");
        }
        sb.setLength(sb.length() - 2);
        return sb.toString();
    }

    private static String names(final List<?> items) {
        if (items.size() <= MAX_NAMES_IN_REASON) {
            return items.toString();
        }
        return items.subList(0, MAX_NAMES_IN_REASON).toString().replace("]", ", ... (" + items.size()
                + " in total)]");
    }
}
