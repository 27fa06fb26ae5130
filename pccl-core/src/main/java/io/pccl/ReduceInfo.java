package io.pccl;

/**
 * Outcome of a successful all-reduce.
 *
 * <p>Thread-safe (immutable).
 *
 * @param worldSize number of peers the operation ran with
 * @param txBytes payload bytes this peer sent
 * @param rxBytes payload bytes this peer received
 * @since 0.1
 */
public record ReduceInfo(int worldSize, long txBytes, long rxBytes) {
}
