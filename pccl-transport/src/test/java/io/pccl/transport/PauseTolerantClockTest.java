package io.pccl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The master's timeout clock on a manual source: gaps up to the step pass through, longer ones are cut. */
class PauseTolerantClockTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private long sourceNs = 7_000;

    @Test
    void shouldFollowTheSourceWhileItIsReadOften() {
        final PauseTolerantClock clock = new PauseTolerantClock(() -> sourceNs, 750 * MS);
        for (int i = 0; i < 50; i++) {
            sourceNs += 100 * MS;
            assertEquals(sourceNs, clock.getAsLong());
        }
        sourceNs += 750 * MS;
        assertEquals(sourceNs, clock.getAsLong(), "a gap of exactly the step still counts in full");
        assertEquals(0, clock.pausedNs());
    }

    @Test
    void shouldCountAtMostOneStepOfAPause() {
        final PauseTolerantClock clock = new PauseTolerantClock(() -> sourceNs, 750 * MS);
        sourceNs += 100 * MS;
        final long before = clock.getAsLong();
        sourceNs += 5_000 * MS; // SIGSTOP for 5 s
        assertEquals(before + 750 * MS, clock.getAsLong());
        assertEquals(4_250 * MS, clock.pausedNs());
        sourceNs += 100 * MS;
        assertEquals(before + 850 * MS, clock.getAsLong(), "after the pause it follows the source again");
        sourceNs += 2_000 * MS;
        assertEquals(before + 1_600 * MS, clock.getAsLong(), "pauses add up");
    }

    @Test
    void shouldStepAQuarterOfTheTimeoutCappedAtASecondButNeverUnderTwoReadPeriods() {
        assertEquals(750 * MS, PauseTolerantClock.maxStepNs(100 * MS, 3_000 * MS));
        assertEquals(1_000 * MS, PauseTolerantClock.maxStepNs(100 * MS, 60_000 * MS));
        assertEquals(2_000 * MS, PauseTolerantClock.maxStepNs(1_000 * MS, 5_000 * MS));
    }

    @Test
    void shouldRejectANonPositiveStep() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PauseTolerantClock(() -> sourceNs, 0));
        assertEquals("maxStepNs must be positive, got 0", e.getMessage());
    }
}
