package io.pccl.master.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link RingBuilder}: reachable successor edges only, deterministic order. */
class RingBuilderTest {
    @Test
    void shouldUseAscendingOrderWithoutUnreachableEdges() {
        assertEquals(List.of(1L, 2L, 3L, 4L), RingBuilder.build(List.of(1L, 2L, 3L, 4L), Map.of()));
        assertEquals(List.of(5L), RingBuilder.build(List.of(5L), Map.of()));
    }

    @Test
    void shouldAvoidUnreachableSuccessorEdgeOnly() {
        // 1 cannot dial 2, but 2 may dial 1: the reference's inverted test would have found no ring.
        assertEquals(List.of(1L, 3L, 2L), RingBuilder.build(List.of(1L, 2L, 3L), Map.of(1L, Set.of(2L))));
    }

    @Test
    void shouldReturnNullWhenNoRingExists() {
        assertNull(RingBuilder.build(List.of(1L, 2L), Map.of(2L, Set.of(1L))));
        assertNull(RingBuilder.build(List.of(1L, 2L, 3L), Map.of(1L, Set.of(2L, 3L))));
    }
}
