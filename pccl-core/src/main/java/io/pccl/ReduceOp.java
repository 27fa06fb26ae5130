package io.pccl;

/**
 * Reduction applied element-wise across peers. Integer ops wrap on overflow; {@link #AVG} is a sum followed by a
 * local division by the world size (integer division truncates toward zero).
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public enum ReduceOp {
    SUM,
    AVG,
    PROD,
    MAX,
    MIN
}
