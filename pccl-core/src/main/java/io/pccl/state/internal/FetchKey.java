package io.pccl.state.internal;

import io.pccl.hash.HashType;
import java.util.Objects;

/**
 * One entry to fetch from a distributor, with the hash its received content must have.
 *
 * <p>Thread-safe (immutable).
 *
 * @param key entry name (must exist in the receiver's shared state with the distributor's size)
 * @param expectedHash the elected hash (unsigned 32-bit value in a long)
 * @param hashType the algorithm {@code expectedHash} was computed with
 * @param verify false for allowContentInequality entries (received as-is, not compared)
 */
public record FetchKey(String key, long expectedHash, HashType hashType, boolean verify) {
    /**
     * Validates.
     *
     * @param key entry name, not null
     * @param expectedHash expected hash
     * @param hashType algorithm, not null
     * @param verify whether to verify the hash after receipt
     */
    public FetchKey {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(hashType, "hashType");
    }
}
