package io.pccl.ring;

import io.pccl.PcclException;
import io.pccl.ring.internal.BufferCache;
import io.pccl.ring.internal.RingOpRunner;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ring all-reduce engine: runs operations over any {@link RingTransport} on a small pool of engine threads
 * plus one timer thread that checks the progress of all running operations periodically. By default reduction and
 * copies never run on a transport thread and futures complete on engine threads;
 * {@link Builder#completeOnTransportThreads} lets both happen on event loops where that is cheap.
 *
 * <pre>{@code
 * try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(1 << 20).progressTimeout(Duration.ofSeconds(30))
 *         .build()) {
 *     RingOperation op = engine.start(new RingOpContext(ring, rank, seq, descriptor, send, recv, transport));
 *     ReduceInfo info = op.future().get(1, TimeUnit.MINUTES);
 * }
 * }</pre>
 *
 * Any number of operations may run at once over the same transport as long as their (seq, tag) pairs differ.
 *
 * <p>Thread-safe.
 */
public final class RingAllReduce implements AutoCloseable {
    /** Default payload bytes per frame. */
    public static final int DEFAULT_SLICE_BYTES = 1 << 20;
    /** Default progress timeout. */
    public static final Duration DEFAULT_PROGRESS_TIMEOUT = Duration.ofSeconds(30);

    private static final long CLOSE_TIMEOUT_MS = 2000;

    private final int sliceBytes;
    private final long progressTimeoutNs;
    private final ThreadPoolExecutor executor;
    private final ScheduledThreadPoolExecutor timer;
    private final BufferCache backups;
    private final boolean completeOnTransportThreads;
    private final Set<RingOpRunner> running = ConcurrentHashMap.newKeySet();
    private final RingOpRunner.Owner owner = running::remove;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile boolean closed;

    private RingAllReduce(final Builder b) {
        this.sliceBytes = b.sliceBytes;
        this.progressTimeoutNs = b.progressTimeoutNs;
        this.backups = new BufferCache(b.maxCachedBackupBytes);
        this.completeOnTransportThreads = b.completeOnTransportThreads;
        // One pending execution per operation at most, so the bounded queue never allocates nodes.
        this.executor = new ThreadPoolExecutor(b.threads, b.threads, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(b.maxQueuedOperations), daemonThreads("pccl-ring-"));
        this.timer = new ScheduledThreadPoolExecutor(1, daemonThreads("pccl-ring-timer-"));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * @return a builder with defaults: 1 MiB slices, 30 s progress timeout, {@code min(4, cores)} threads
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts an all-reduce. An in-place backup of the input is taken on the calling thread.
     *
     * @param ctx the operation's inputs
     * @return the running operation
     * @throws PcclException {@code CLOSED} after {@link #close()}; {@code FAILED_PRECONDITION} for a (seq, tag)
     *                       already running on the transport; {@code INVALID_ARGUMENT} for a type pair (or, with
     *                       {@code ZERO_POINT_SCALE}, an op) the descriptor's quantization does not take
     */
    public RingOperation start(final RingOpContext ctx) {
        Objects.requireNonNull(ctx, "ctx");
        if (closed) {
            throw new PcclException(PcclException.Code.CLOSED, "ring engine is closed");
        }
        final RingOpRunner op = new RingOpRunner(ctx, sliceBytes, progressTimeoutNs, executor, backups, owner,
                completeOnTransportThreads);
        running.add(op);
        if (!sweeping.get() && sweeping.compareAndSet(false, true)) {
            // One periodic check for all operations: scheduling a timer per operation woke the timer thread on
            // every start (its task became the queue's head).
            final long periodNs = Math.max(TimeUnit.MILLISECONDS.toNanos(1), progressTimeoutNs / 4);
            timer.scheduleWithFixedDelay(this::checkProgress, periodNs, periodNs, TimeUnit.NANOSECONDS);
        }
        op.start();
        return op;
    }

    /** Runs on the timer: lets every running operation fail that made no progress within the timeout. */
    private void checkProgress() {
        for (final RingOpRunner op : running) {
            op.checkProgress();
        }
    }

    /**
     * @return payload bytes per frame
     */
    public int sliceBytes() {
        return sliceBytes;
    }

    /**
     * @return the progress timeout in nanoseconds
     */
    public long progressTimeoutNs() {
        return progressTimeoutNs;
    }

    /**
     * @return operations currently running
     */
    public int runningOperations() {
        return running.size();
    }

    /**
     * Aborts every running operation with {@code CLOSED}, waits up to 2 s for them to restore their inputs and
     * complete, and stops the threads (bounded wait). Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        final List<RingOpRunner> ops = new ArrayList<>(running);
        final CompletableFuture<?>[] futures = new CompletableFuture<?>[ops.size()];
        for (int i = 0; i < futures.length; i++) {
            final RingOpRunner op = ops.get(i);
            op.abort(new PcclException(PcclException.Code.CLOSED, "ring engine closed while operation seq "
                    + op.seq() + " tag " + op.tag() + " was running"));
            futures[i] = op.future();
        }
        // Let aborted operations restore their inputs (they wait for their queued writes) before the threads stop.
        try {
            CompletableFuture.allOf(futures).get(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (final ExecutionException | TimeoutException e) {
            // Failed futures are expected; a timeout leaves the rest to the executor shutdown below.
        }
        executor.shutdown();
        timer.shutdownNow();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }

    private static ThreadFactory daemonThreads(final String prefix) {
        final AtomicInteger n = new AtomicInteger();
        return r -> {
            final Thread t = new Thread(r, prefix + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Configures a {@link RingAllReduce}.
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {
        private int sliceBytes = DEFAULT_SLICE_BYTES;
        private long progressTimeoutNs = DEFAULT_PROGRESS_TIMEOUT.toNanos();
        private int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
        private int maxQueuedOperations = 4096;
        private long maxCachedBackupBytes = 1L << 30;
        private boolean completeOnTransportThreads;

        private Builder() {
        }

        /**
         * Lets an operation (not {@code AVG}, which divides on an engine thread) run on transport threads where that
         * saves a wake-up: it completes its future on the thread that ran its successful fence (the usual last
         * event), and, for 4- and 8-byte element types, the event loop that read a payload straight into
         * {@code recv} folds it and queues the next sends at once, while those bytes are still in its cache
         * (W = 4 on 2 cores: 5-15 % faster at 64 and 256 MiB in alternating runs, see docs/ring-allreduce.md).
         * The 1- and 2-byte kernels (half types fold ~1 GB/s per core) stay on engine threads. Default false:
         * futures complete on engine threads and event loops only do I/O. Enable it only when every dependent of the
         * futures is quick and never blocks (they then run on an event loop).
         *
         * @param enable whether to allow it
         * @return this
         */
        public Builder completeOnTransportThreads(final boolean enable) {
            this.completeOnTransportThreads = enable;
            return this;
        }

        /**
         * Payload bytes per frame (rounded down to whole elements). Every peer's receive limit (the data-frame
         * decoder's maximum payload) must be at least this.
         *
         * @param sliceBytes bytes, {@code >= 8}
         * @return this
         */
        public Builder sliceBytes(final int sliceBytes) {
            if (sliceBytes < 8) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "sliceBytes " + sliceBytes
                        + " must be >= 8");
            }
            this.sliceBytes = sliceBytes;
            return this;
        }

        /**
         * Longest time an operation may go without receiving or sending a slice before it fails with
         * {@link io.pccl.PeerLostException}.
         *
         * @param timeout positive duration
         * @return this
         */
        public Builder progressTimeout(final Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "progressTimeout " + timeout
                        + " must be positive");
            }
            this.progressTimeoutNs = timeout.toNanos();
            return this;
        }

        /**
         * Engine threads that run reductions and copies.
         *
         * @param threads {@code >= 1}
         * @return this
         */
        public Builder threads(final int threads) {
            if (threads < 1) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "threads " + threads + " must be >= 1");
            }
            this.threads = threads;
            return this;
        }

        /**
         * Most operations that may wait for an engine thread at once (bounds the executor queue).
         *
         * @param max {@code >= 1}
         * @return this
         */
        public Builder maxQueuedOperations(final int max) {
            if (max < 1) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "maxQueuedOperations " + max
                        + " must be >= 1");
            }
            this.maxQueuedOperations = max;
            return this;
        }

        /**
         * Most bytes of in-place backup buffers kept for reuse between operations (default 1 GiB).
         *
         * @param bytes {@code >= 0}
         * @return this
         */
        public Builder maxCachedBackupBytes(final long bytes) {
            if (bytes < 0) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "maxCachedBackupBytes " + bytes
                        + " must be >= 0");
            }
            this.maxCachedBackupBytes = bytes;
            return this;
        }

        /**
         * @return the engine, with its threads started lazily
         */
        public RingAllReduce build() {
            return new RingAllReduce(this);
        }
    }
}
