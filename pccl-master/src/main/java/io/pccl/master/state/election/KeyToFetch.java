package io.pccl.master.state.election;

/**
 * A key a voter must fetch, with the hash the received bytes must have.
 *
 * <p>Thread-safe (immutable).
 *
 * @param key entry name
 * @param expectedHash the elected content's hash (for an {@code allowContentInequality} entry: the hash of the
 *                     lowest-id distributor's content, which is what a fetch from that distributor yields; the
 *                     receiver should not verify such entries against it, since other distributors may differ)
 * @param hashType hash algorithm wire number
 * @param allowContentInequality whether the entry is exempt from comparison
 */
public record KeyToFetch(String key, long expectedHash, int hashType, boolean allowContentInequality) {
}
