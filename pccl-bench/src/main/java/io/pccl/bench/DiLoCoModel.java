package io.pccl.bench;

import io.pccl.SharedState;
import io.pccl.hash.SimpleHash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The arithmetic of DiLoCo for {@link DiLoCoTraining}, on a toy problem: no communication here, so the protocol
 * around it can be read and tested apart from the numbers.
 *
 * <p>The problem: a noisy quadratic per peer. Peer {@code p} owns a data shard, modelled as its own centre
 * {@code c_p = target + shard noise}; its loss is {@code ½·Σ (φ_j − c_pj)²} and an inner step is SGD with
 * gradient {@code (φ − c_p) + noise}. The group's optimum is the mean of the peers' centres, near
 * {@code target}; {@link #loss()} reports {@code ½·mean (θ_j − target_j)²} of the shared parameters, so it is the
 * same on every peer and falls as the outer steps pull the average of the shards' drifts together.
 *
 * <p>The state, with its role in DiLoCo:
 * <ul>
 *   <li>{@code theta}, {@code momentum}: the outer parameters and the outer optimizer's state, the shared state
 *       ({@link #newSharedState}) that every peer holds bit-identical;</li>
 *   <li>{@code local}: the inner parameters φ, and {@code anchor}: the θ they started from; the pseudo-gradient
 *       is {@code anchor − φ} after the inner steps;</li>
 *   <li>{@link #delta()}: the buffer the all-reduce sums (pseudo-gradients), and {@link #weight()}: the
 *       one-float buffer that sums how many peers contributed one, so a peer without a pseudo-gradient (a
 *       newcomer) adds zeros and weight 0 instead of diluting the average.</li>
 * </ul>
 *
 * <p>Outer step, SGD with Nesterov momentum: {@code g = Σ Δ / Σ weight}, {@code m ← μ·m + g},
 * {@code θ ← θ − lr·(g + μ·m)}. All in float32 arithmetic, which Java evaluates exactly as IEEE 754 prescribes,
 * so peers that hold the same θ and m and receive the same sums end bit-identical.
 *
 * <p>Not thread-safe. {@link DiLoCoTraining} runs the inner steps while the all-reduce of the previous
 * pseudo-gradient is in flight: the inner steps touch only {@code local} and {@code anchor} (and read
 * {@code theta}), the all-reduce only {@link #delta()} and {@link #weight()}, and the caller orders the two with
 * the all-reduce's future.
 */
final class DiLoCoModel {
    /** Inner SGD learning rate. */
    static final float INNER_LR = 0.1f;
    /** Outer learning rate (the DiLoCo paper's 0.7). */
    static final float OUTER_LR = 0.7f;
    /**
     * Outer Nesterov momentum. The DiLoCo paper's 0.9 diverges here with the one-step delay: on this problem the
     * outer iteration's spectral radius is 0.70 synchronous but 1.12 delayed; with 0.5 it is 0.52 and 0.93, so
     * both modes converge and can be compared.
     */
    static final float MOMENTUM = 0.5f;
    /** Standard deviation of a shard's centre around the target. */
    private static final double SHARD_NOISE = 0.1;
    /** Standard deviation of an inner step's gradient noise. */
    private static final double STEP_NOISE = 0.2;
    /** Seed of the target, the same on every peer. */
    private static final long TARGET_SEED = 0x5EED_7A26_E7L;

    private final int elements;
    private final long dataSeed;
    private final float[] theta;
    private final float[] momentum;
    private final float[] local;
    private final float[] anchor;
    private final float[] centre;
    private final float[] target;
    /** Scratch for the pseudo-gradient on its way into and out of {@link #delta}. */
    private final float[] scratch;
    private final ByteBuffer delta;
    private final FloatBuffer deltaFloats;
    private final ByteBuffer weight;
    /** Whether {@code local} holds finished inner steps from {@code anchor}. */
    private boolean innerDone;

    /**
     * A model with random initial parameters.
     *
     * @param elements parameters, {@code >= 1}
     * @param initSeed seed of the initial θ (peers that start a run differ; the first sync picks one)
     * @param dataSeed seed of this peer's shard and of its inner steps' noise
     */
    DiLoCoModel(final int elements, final long initSeed, final long dataSeed) {
        if (elements < 1 || elements > Integer.MAX_VALUE / 4 - 1) {
            throw new IllegalArgumentException("elements must be in [1, " + (Integer.MAX_VALUE / 4 - 1) + "], got "
                    + elements);
        }
        this.elements = elements;
        this.dataSeed = dataSeed;
        theta = new float[elements];
        momentum = new float[elements];
        local = new float[elements];
        anchor = new float[elements];
        centre = new float[elements];
        target = new float[elements];
        scratch = new float[elements];
        final SplittableRandom init = new SplittableRandom(initSeed);
        final SplittableRandom targets = new SplittableRandom(TARGET_SEED);
        final SplittableRandom shard = new SplittableRandom(dataSeed);
        for (int i = 0; i < elements; i++) {
            theta[i] = (float) init.nextDouble(-1, 1);
            target[i] = (float) targets.nextDouble(-1, 1);
            centre[i] = (float) (target[i] + SHARD_NOISE * shard.nextGaussian());
        }
        delta = ByteBuffer.allocateDirect(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
        deltaFloats = delta.asFloatBuffer();
        weight = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The shared state of this model: {@code theta} and {@code momentum}, float32, revision 0.
     *
     * @return a new shared state over this model's arrays
     */
    SharedState newSharedState() {
        return SharedState.builder().revision(0).entry("theta", theta).entry("momentum", momentum).build();
    }

    /** The buffer the all-reduce sums: {@code elements} float32 pseudo-gradient values, little-endian. */
    ByteBuffer delta() {
        return delta;
    }

    /** The one-float32 buffer the all-reduce sums: how many peers contributed to {@link #delta()}. */
    ByteBuffer weight() {
        return weight;
    }

    int elements() {
        return elements;
    }

    /**
     * Runs {@code steps} inner SGD steps from the current θ: {@code anchor = φ = θ}, then
     * {@code φ ← φ − lr·((φ − c) + noise)} per step. The noise is a function of this peer's data seed, the
     * revision and the step, so a retried step repeats its inner steps exactly.
     *
     * @param steps inner steps, {@code >= 1}
     * @param revision the shared state's revision, part of the noise seed
     */
    void innerSteps(final int steps, final long revision) {
        System.arraycopy(theta, 0, anchor, 0, elements);
        System.arraycopy(theta, 0, local, 0, elements);
        for (int s = 0; s < steps; s++) {
            final SplittableRandom noise = new SplittableRandom(dataSeed * 1_000_003L + revision * 131L + s);
            for (int i = 0; i < elements; i++) {
                final float g = local[i] - centre[i] + (float) (STEP_NOISE * noise.nextDouble(-1, 1));
                local[i] -= INNER_LR * g;
            }
        }
        innerDone = true;
    }

    /** Forgets the finished inner steps, e.g. when a sync replaced θ: their pseudo-gradient belongs to another θ. */
    void discardInnerSteps() {
        innerDone = false;
    }

    /**
     * Writes this peer's contribution into {@link #delta()} and {@link #weight()}: {@code anchor − φ} and 1 after
     * finished inner steps, zeros and 0 otherwise.
     *
     * @return whether this peer contributes a pseudo-gradient
     */
    boolean writeContribution() {
        if (innerDone) {
            for (int i = 0; i < elements; i++) {
                scratch[i] = anchor[i] - local[i];
            }
        } else {
            Arrays.fill(scratch, 0f);
        }
        deltaFloats.clear();
        deltaFloats.put(scratch);
        weight.putFloat(0, innerDone ? 1f : 0f);
        return innerDone;
    }

    /**
     * The outer step with the summed contributions now in {@link #delta()} and {@link #weight()}; none when no
     * peer contributed.
     *
     * @return the number of contributing peers
     */
    int applyOuterStep() {
        final float contributors = weight.getFloat(0);
        if (contributors == 0f) {
            return 0;
        }
        deltaFloats.clear();
        deltaFloats.get(scratch);
        for (int i = 0; i < elements; i++) {
            final float g = scratch[i] / contributors;
            final float m = MOMENTUM * momentum[i] + g;
            momentum[i] = m;
            theta[i] -= OUTER_LR * (g + MOMENTUM * m);
        }
        return (int) contributors;
    }

    /** {@code ½·mean (θ − target)²}, the same on every peer that holds the same θ. */
    double loss() {
        double sum = 0;
        for (int i = 0; i < elements; i++) {
            final double d = theta[i] - target[i];
            sum += d * d;
        }
        return 0.5 * sum / elements;
    }

    /** The hashes of θ and of the momentum, as one 16-digit hex string (the parity check compares it). */
    String stateHash() {
        return String.format("%08x%08x", SimpleHash.hash(theta, 0, elements), SimpleHash.hash(momentum, 0, elements));
    }
}
