package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The message budget in virtual time: a burst at once, then the sustained rate, and no credit beyond the burst. */
class MessageRateLimitTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void shouldPassABurstAtOnceThenOneMessagePerIntervalAndNeverSaveMoreThanABurst() {
        final MessageRateLimit limit = new MessageRateLimit(1000, 3);
        final long t0 = 5_000 * MS;
        assertEquals(0, limit.waitNs(t0));
        assertEquals(0, limit.spend(t0));
        assertEquals(0, limit.spend(t0));
        // The third message of the burst spends it: the next must wait one interval.
        assertEquals(MS, limit.spend(t0));
        assertEquals(MS, limit.waitNs(t0));
        assertEquals(MS / 2, limit.waitNs(t0 + MS / 2));
        assertEquals(0, limit.waitNs(t0 + MS));
        assertEquals(MS, limit.spend(t0 + MS));
        // Ten idle seconds refill the bucket to the burst, not to ten thousand messages.
        final long later = t0 + 10_000 * MS;
        assertEquals(0, limit.spend(later));
        assertEquals(0, limit.spend(later));
        assertEquals(MS, limit.spend(later));
    }

    @Test
    void shouldRejectANonPositiveRateOrBurstNamingBoth() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MessageRateLimit(0, 5));
        assertEquals("message rate 0/s and burst 5 must both be >= 1", e.getMessage());
    }
}
