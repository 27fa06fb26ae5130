package io.pccl.internal.collective;

import io.pccl.PcclException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Waiting for collective futures from user threads.
 *
 * <p>Thread-safe (stateless).
 */
public final class Futures {
    private Futures() {
    }

    /**
     * Waits for {@code f} without giving up on interrupts (the operation owns the caller's buffers until it
     * completes). An operation always completes: before it starts, by the master's answer — commence, a refusal,
     * or the master's collective vote timeout when a peer never launches the tag — or the loss of the master
     * connection (heartbeat timeout) or close; once running, by the master's answer, the progress timeout, the
     * loss of a neighbour or close. The interrupt flag is restored afterwards.
     *
     * @param f the future
     * @param <T> the result type
     * @return its value
     * @throws PcclException the operation's failure
     */
    public static <T> T await(final CompletableFuture<T> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw unwrap(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static PcclException unwrap(final Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof PcclException) {
            return (PcclException) c;
        }
        return new PcclException(PcclException.Code.INTERNAL, "collective failed: " + c, c);
    }
}
