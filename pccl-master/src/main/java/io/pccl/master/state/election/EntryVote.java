package io.pccl.master.state.election;

import java.util.Objects;

/**
 * One shared-state entry as a voter describes it. Types are wire numbers so that the master needs no core types:
 * {@code hashType} is {@code HashTypeProto} (0 simplehash, 1 CRC-32C), {@code dataType} is {@code DataTypeProto}
 * (1 UINT8 ... 12 FLOAT64).
 *
 * <p>Thread-safe (immutable).
 *
 * @param key entry name, unique within the vote
 * @param hash content hash (ignored when {@code allowContentInequality})
 * @param hashType hash algorithm wire number
 * @param count element count
 * @param dataType element type wire number
 * @param allowContentInequality whether peers may differ in this entry
 */
public record EntryVote(String key, long hash, int hashType, long count, int dataType,
                        boolean allowContentInequality) {
    /**
     * Validates the key.
     *
     * @param key entry name, not null
     * @param hash content hash
     * @param hashType hash algorithm wire number
     * @param count element count
     * @param dataType element type wire number
     * @param allowContentInequality whether peers may differ in this entry
     */
    public EntryVote {
        Objects.requireNonNull(key, "key");
    }

    /** Whether two entries have the same shape (everything but the hash). */
    boolean sameShape(final EntryVote o) {
        return count == o.count && dataType == o.dataType && hashType == o.hashType
                && allowContentInequality == o.allowContentInequality;
    }

    /** Describes how this entry's shape differs from {@code elected}'s, e.g. "count 10 (elected 12)". */
    String shapeDiff(final EntryVote elected) {
        final StringBuilder sb = new StringBuilder();
        if (count != elected.count) {
            sb.append("count ").append(count).append(" (elected ").append(elected.count).append(") ");
        }
        if (dataType != elected.dataType) {
            sb.append("data type ").append(dataType).append(" (elected ").append(elected.dataType).append(") ");
        }
        if (hashType != elected.hashType) {
            sb.append("hash type ").append(hashType).append(" (elected ").append(elected.hashType).append(") ");
        }
        if (allowContentInequality != elected.allowContentInequality) {
            sb.append("allowContentInequality ").append(allowContentInequality).append(" (elected ")
                    .append(elected.allowContentInequality).append(") ");
        }
        return sb.toString().trim();
    }
}
