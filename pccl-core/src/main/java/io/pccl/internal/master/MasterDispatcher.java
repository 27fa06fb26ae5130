package io.pccl.internal.master;

import io.pccl.PcclException;
import io.pccl.proto.Envelope;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Routes envelopes received from the master to the threads waiting for them: one FIFO queue per message kind
 * ({@link Envelope.BodyCase}). The event loop calls {@link #deliver} (never blocks: a short critical section and a
 * signal); callers block in {@link #await} with a bound. Once {@link #fail} has been called every pending and
 * every later {@code await} throws that first failure (the dispatcher is terminal).
 *
 * <p>A kind may instead have a <em>listener</em> ({@link #listen}): it is invoked on the delivering thread (the
 * event loop) and must only hand the envelope off (e.g. enqueue it or complete a future whose dependents run on
 * another executor); it must never block or run user code.
 *
 * <p>Thread-safe.
 */
public final class MasterDispatcher {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by {@code lock}. */
    private final Map<Envelope.BodyCase, ArrayDeque<Envelope>> queues = new EnumMap<>(Envelope.BodyCase.class);
    private final Map<Envelope.BodyCase, Consumer<Envelope>> listeners = new EnumMap<>(Envelope.BodyCase.class);
    /** Guarded by {@code lock}; written once. */
    private PcclException failure;
    /** Guarded by {@code lock}; told once on failure. */
    private final List<Consumer<PcclException>> failureListeners = new ArrayList<>();

    /**
     * Hands an inbound envelope to its listener or queues it for {@link #await}. Called by the event loop.
     *
     * @param envelope the envelope; ignored after {@link #fail}
     */
    public void deliver(final Envelope envelope) {
        final Envelope.BodyCase kind = envelope.getBodyCase();
        final Consumer<Envelope> listener;
        lock.lock();
        try {
            if (failure != null) {
                return;
            }
            listener = listeners.get(kind);
            if (listener == null) {
                queues.computeIfAbsent(kind, k -> new ArrayDeque<>()).addLast(envelope);
                changed.signalAll();
                return;
            }
        } finally {
            lock.unlock();
        }
        listener.accept(envelope);
    }

    /**
     * Registers a listener that receives every later envelope of {@code kind} instead of the queue.
     *
     * @param kind the message kind
     * @param listener runs on the delivering (event-loop) thread; must not block
     */
    public void listen(final Envelope.BodyCase kind, final Consumer<Envelope> listener) {
        Objects.requireNonNull(listener, "listener");
        lock.lock();
        try {
            listeners.put(kind, listener);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fails the dispatcher: wakes every waiter with {@code cause}; later calls to {@link #await} throw it at once.
     * Only the first failure is kept.
     *
     * @param cause the failure callers will see
     * @return true if this call was the first failure
     */
    public boolean fail(final PcclException cause) {
        Objects.requireNonNull(cause, "cause");
        lock.lock();
        try {
            if (failure != null) {
                return false;
            }
            failure = cause;
            queues.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Consumer<PcclException> l : failureListeners) {
            l.accept(cause);
        }
        return true;
    }

    /**
     * Registers a callback told once when the dispatcher fails (at once if it already has).
     *
     * @param listener runs on the failing thread (possibly an event loop); must not block
     */
    public void onFailure(final Consumer<PcclException> listener) {
        Objects.requireNonNull(listener, "listener");
        final PcclException already;
        lock.lock();
        try {
            already = failure;
            if (already == null) {
                failureListeners.add(listener);
            }
        } finally {
            lock.unlock();
        }
        if (already != null) {
            listener.accept(already);
        }
    }

    /**
     * The failure, if the dispatcher has failed.
     *
     * @return the first failure or null
     */
    public PcclException failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops queued envelopes of the given kinds (stale answers of an abandoned exchange).
     *
     * @param kinds the kinds to clear
     */
    public void clear(final Envelope.BodyCase... kinds) {
        lock.lock();
        try {
            for (Envelope.BodyCase kind : kinds) {
                queues.remove(kind);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for the next envelope of {@code kind}.
     *
     * @param kind the message kind
     * @param timeoutNs the bound in nanoseconds
     * @param what what the caller waits for, for the timeout message
     * @return the envelope
     * @throws PcclException the dispatcher's failure, or {@link PcclException.Code#TIMEOUT} when the bound passes
     */
    public Envelope await(final Envelope.BodyCase kind, final long timeoutNs, final String what) {
        return await(kind, null, timeoutNs, what);
    }

    /**
     * Waits for the next envelope of {@code kind} that {@code accept} accepts; envelopes it rejects are dropped.
     *
     * @param kind the message kind
     * @param accept filter, or null to take the first; runs under the dispatcher's lock, must be cheap
     * @param timeoutNs the bound in nanoseconds
     * @param what what the caller waits for, for the timeout message
     * @return the envelope
     * @throws PcclException the dispatcher's failure, or {@link PcclException.Code#TIMEOUT} when the bound passes
     */
    public Envelope await(final Envelope.BodyCase kind, final Predicate<Envelope> accept, final long timeoutNs,
                          final String what) {
        return await(new Envelope.BodyCase[] {kind}, accept, timeoutNs, what);
    }

    /**
     * Waits for the next envelope of any of {@code kinds} (queues are checked in the order given).
     *
     * @param kinds the message kinds
     * @param timeoutNs the bound in nanoseconds
     * @param what what the caller waits for, for the timeout message
     * @return the envelope
     * @throws PcclException the dispatcher's failure, or {@link PcclException.Code#TIMEOUT} when the bound passes
     */
    public Envelope awaitAny(final Envelope.BodyCase[] kinds, final long timeoutNs, final String what) {
        return await(kinds, null, timeoutNs, what);
    }

    private Envelope await(final Envelope.BodyCase[] kinds, final Predicate<Envelope> accept, final long timeoutNs,
                           final String what) {
        final long deadline = System.nanoTime() + Math.max(0L, timeoutNs);
        lock.lock();
        try {
            while (true) {
                if (failure != null) {
                    throw failure;
                }
                for (Envelope.BodyCase kind : kinds) {
                    final ArrayDeque<Envelope> queue = queues.get(kind);
                    while (queue != null && !queue.isEmpty()) {
                        final Envelope envelope = queue.pollFirst();
                        if (accept == null || accept.test(envelope)) {
                            return envelope;
                        }
                    }
                }
                final long leftNs = deadline - System.nanoTime();
                if (leftNs <= 0L) {
                    throw new PcclException(PcclException.Code.TIMEOUT, "timed out after "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms waiting for " + what);
                }
                try {
                    changed.awaitNanos(leftNs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PcclException(PcclException.Code.TIMEOUT, "interrupted while waiting for " + what, e);
                }
            }
        } finally {
            lock.unlock();
        }
    }
}
