package io.pccl.master.state.election;

import java.util.List;
import java.util.Objects;

/**
 * What one voter is told after the election.
 *
 * <p>Thread-safe (immutable).
 */
public sealed interface PeerOutcome permits PeerOutcome.Distribute, PeerOutcome.Request, PeerOutcome.Failed {

    /**
     * The voter holds the elected content at the elected revision; nothing to fetch. It serves requesters
     * (and is listed as a distributor) unless it is RECEIVE_ONLY.
     *
     * @param distributor whether other voters may fetch from it
     */
    record Distribute(boolean distributor) implements PeerOutcome {
    }

    /**
     * The voter must adopt the elected revision and fetch {@code keys} (possibly none: then only the revision
     * was stale) from any of {@code distributors}.
     *
     * @param keys keys to fetch in name order, each with its expected hash
     * @param distributors peer ids holding the elected content, ascending; spread requests over them
     */
    record Request(List<KeyToFetch> keys, List<Long> distributors) implements PeerOutcome {
        /**
         * Copies the lists.
         *
         * @param keys keys to fetch
         * @param distributors distributor peer ids
         */
        public Request {
            keys = List.copyOf(keys);
            distributors = List.copyOf(distributors);
        }
    }

    /**
     * The voter's sync failed.
     *
     * @param code why
     * @param reason a message naming the values and what was expected
     */
    record Failed(FailureCode code, String reason) implements PeerOutcome {
        /**
         * Validates.
         *
         * @param code why, not null
         * @param reason the message, not null
         */
        public Failed {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
