package io.pccl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Slots taken up to the limit, given back, and refusals counted with a log line at powers of two. */
class ConnectionSlotsTest {
    @Test
    void shouldHandOutSlotsUpToTheLimitAndTakeThemBack() {
        final ConnectionSlots slots = new ConnectionSlots(2);
        assertTrue(slots.tryAcquire());
        assertTrue(slots.tryAcquire());
        assertFalse(slots.tryAcquire());
        assertEquals("the master's connection limit is reached (2 open, limit 2)", slots.limitReached("master"));
        slots.release();
        assertEquals(1, slots.open());
        assertTrue(slots.tryAcquire());
    }

    @Test
    void shouldLogTheFirstSecondFourthAndEighthRefusal() {
        final ConnectionSlots slots = new ConnectionSlots(1);
        final List<Long> logged = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            if (slots.countRefusal()) {
                logged.add(slots.refused());
            }
        }
        assertEquals(List.of(1L, 2L, 4L, 8L), logged);
        assertEquals(10, slots.refused());
    }

    @Test
    void shouldRejectALimitBelowOne() {
        assertEquals("max connections must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new ConnectionSlots(0)).getMessage());
    }
}
