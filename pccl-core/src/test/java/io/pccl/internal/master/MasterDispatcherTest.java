package io.pccl.internal.master;

import io.pccl.KickedException;
import io.pccl.PcclException;
import io.pccl.proto.Envelope;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.PeersPendingResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class MasterDispatcherTest {
    private static final long SECOND_NS = TimeUnit.SECONDS.toNanos(1);

    private static Envelope pending(final boolean value) {
        return Envelope.newBuilder().setPeersPendingResponse(PeersPendingResponse.newBuilder().setPending(value))
                .build();
    }

    private static Envelope result(final long round) {
        return Envelope.newBuilder().setP2PEstablishResult(P2PEstablishResult.newBuilder().setRound(round)).build();
    }

    @Test
    void queuedEnvelopesAreReturnedInOrderPerKind() {
        final MasterDispatcher d = new MasterDispatcher();
        d.deliver(pending(true));
        d.deliver(result(4));
        d.deliver(pending(false));
        assertTrue(d.await(Envelope.BodyCase.PEERS_PENDING_RESPONSE, SECOND_NS, "x").getPeersPendingResponse()
                .getPending());
        assertFalse(d.await(Envelope.BodyCase.PEERS_PENDING_RESPONSE, SECOND_NS, "x").getPeersPendingResponse()
                .getPending());
        assertEquals(4, d.await(Envelope.BodyCase.P2P_ESTABLISH_RESULT, SECOND_NS, "x").getP2PEstablishResult()
                .getRound());
    }

    @Test
    void timeoutNamesWhatWasAwaited() {
        final MasterDispatcher d = new MasterDispatcher();
        final PcclException e = assertThrows(PcclException.class,
                () -> d.await(Envelope.BodyCase.HELLO_ACK, TimeUnit.MILLISECONDS.toNanos(20), "hello-ack from m:1"));
        assertEquals(PcclException.Code.TIMEOUT, e.code());
        assertTrue(e.getMessage().contains("hello-ack from m:1"), e.getMessage());
    }

    @Test
    void filterDropsStaleEnvelopes() {
        final MasterDispatcher d = new MasterDispatcher();
        d.deliver(result(1));
        d.deliver(result(2));
        final Envelope e = d.await(Envelope.BodyCase.P2P_ESTABLISH_RESULT,
                x -> x.getP2PEstablishResult().getRound() == 2, SECOND_NS, "round 2");
        assertEquals(2, e.getP2PEstablishResult().getRound());
        d.clear(Envelope.BodyCase.P2P_ESTABLISH_RESULT);
        assertThrows(PcclException.class, () -> d.await(Envelope.BodyCase.P2P_ESTABLISH_RESULT, 1_000_000L, "x"));
    }

    @Test
    void deliveryWakesAWaiterOnAnotherThread() throws Exception {
        final MasterDispatcher d = new MasterDispatcher();
        final CompletableFuture<Envelope> got = CompletableFuture.supplyAsync(
                () -> d.await(Envelope.BodyCase.PEERS_PENDING_RESPONSE, 5 * SECOND_NS, "x"));
        d.deliver(pending(true));
        assertTrue(got.get(5, TimeUnit.SECONDS).getPeersPendingResponse().getPending());
    }

    @Test
    void failureWakesWaitersAndFailsLaterCallsWithTheFirstCause() throws Exception {
        final MasterDispatcher d = new MasterDispatcher();
        final CountDownLatch started = new CountDownLatch(1);
        final AtomicReference<Throwable> seen = new AtomicReference<>();
        final Thread waiter = new Thread(() -> {
            started.countDown();
            try {
                d.await(Envelope.BodyCase.P2P_CONNECTION_INFO, 30 * SECOND_NS, "info");
            } catch (PcclException e) {
                seen.set(e);
            }
        });
        waiter.start();
        assertTrue(started.await(5, TimeUnit.SECONDS));
        final KickedException kicked = new KickedException("kicked: reason");
        assertTrue(d.fail(kicked));
        assertFalse(d.fail(new PcclException(PcclException.Code.CLOSED, "later")));
        waiter.join(5_000);
        assertFalse(waiter.isAlive());
        assertSame(kicked, seen.get());
        d.deliver(pending(true));
        assertSame(kicked, assertThrows(KickedException.class,
                () -> d.await(Envelope.BodyCase.PEERS_PENDING_RESPONSE, SECOND_NS, "x")));
    }

    @Test
    void listenerReceivesItsKindInsteadOfTheQueue() {
        final MasterDispatcher d = new MasterDispatcher();
        final AtomicReference<Envelope> heard = new AtomicReference<>();
        d.listen(Envelope.BodyCase.P2P_ESTABLISH_RESULT, heard::set);
        d.deliver(result(9));
        assertEquals(9, heard.get().getP2PEstablishResult().getRound());
        assertThrows(PcclException.class, () -> d.await(Envelope.BodyCase.P2P_ESTABLISH_RESULT, 1_000_000L, "x"));
    }
}
