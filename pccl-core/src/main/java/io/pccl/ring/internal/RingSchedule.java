package io.pccl.ring.internal;

import io.pccl.transport.data.DataFrameFlyweight;

/**
 * The ring schedule of one operation: how elements split into chunks and which chunk a rank sends and receives
 * at each step. Both stages use one step counter {@code t} in {@code [0, 2(W-1))}: at step {@code t} rank
 * {@code r} sends chunk {@code (r - t) mod W} and receives chunk {@code (r - t - 1) mod W}; steps below
 * {@code W - 1} are reduce-scatter (the receiver folds the payload into its copy), the rest all-gather (the receiver
 * overwrites its copy and forwards it verbatim at the next step). So the chunk sent at step {@code t > 0} is the
 * one received at step {@code t - 1}, and a byte range may be sent as soon as it was received.
 *
 * <p>Chunking: {@code count} elements split into {@code W} contiguous chunks; every chunk gets {@code count / W}
 * elements and the first {@code count % W} get one more. Chunks may be empty.
 *
 * <p>Thread-safe (immutable).
 */
public final class RingSchedule {
    private final int worldSize;
    private final int rank;
    private final int[] chunkStartBytes;
    private final int[] chunkBytes;

    /**
     * Computes the schedule.
     *
     * @param count elements, {@code >= 0}, with {@code count * elementBytes <= Integer.MAX_VALUE}
     * @param elementBytes bytes per element
     * @param worldSize ring size, {@code >= 1}
     * @param rank this peer's index
     */
    public RingSchedule(final long count, final int elementBytes, final int worldSize, final int rank) {
        this.worldSize = worldSize;
        this.rank = rank;
        this.chunkStartBytes = new int[worldSize];
        this.chunkBytes = new int[worldSize];
        for (int c = 0; c < worldSize; c++) {
            chunkStartBytes[c] = Math.toIntExact(chunkStartElement(count, worldSize, c) * elementBytes);
            chunkBytes[c] = Math.toIntExact(chunkElements(count, worldSize, c) * elementBytes);
        }
    }

    /**
     * First element of chunk {@code c}.
     *
     * @param count elements
     * @param worldSize chunks
     * @param c chunk index
     * @return element index
     */
    public static long chunkStartElement(final long count, final int worldSize, final int c) {
        final long base = count / worldSize;
        final long extra = count % worldSize;
        return c * base + Math.min(c, extra);
    }

    /**
     * Elements in chunk {@code c}.
     *
     * @param count elements
     * @param worldSize chunks
     * @param c chunk index
     * @return element count, possibly 0
     */
    public static long chunkElements(final long count, final int worldSize, final int c) {
        return count / worldSize + (c < count % worldSize ? 1 : 0);
    }

    /**
     * @return ring size W
     */
    public int worldSize() {
        return worldSize;
    }

    /**
     * @return this peer's index
     */
    public int rank() {
        return rank;
    }

    /**
     * @return {@code 2 (W - 1)}
     */
    public int totalSteps() {
        return 2 * (worldSize - 1);
    }

    /**
     * @param step ring step
     * @return the chunk this rank sends at {@code step}
     */
    public int sendChunk(final int step) {
        return Math.floorMod(rank - step, worldSize);
    }

    /**
     * @param step ring step
     * @return the chunk this rank receives at {@code step}
     */
    public int recvChunk(final int step) {
        return Math.floorMod(rank - step - 1, worldSize);
    }

    /**
     * @param step ring step
     * @return {@code DataFrameFlyweight.STAGE_REDUCE_SCATTER} or {@code STAGE_ALL_GATHER}
     */
    public int stage(final int step) {
        return step < worldSize - 1 ? DataFrameFlyweight.STAGE_REDUCE_SCATTER : DataFrameFlyweight.STAGE_ALL_GATHER;
    }

    /**
     * @param c chunk index
     * @return byte offset of chunk {@code c} within the operand
     */
    public int chunkStartBytes(final int c) {
        return chunkStartBytes[c];
    }

    /**
     * @param c chunk index
     * @return bytes in chunk {@code c}
     */
    public int chunkBytes(final int c) {
        return chunkBytes[c];
    }
}
