package io.pccl.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PrometheusTextTest {
    @Test
    void shouldWriteFamiliesWithTheirSamples() {
        final String text = new PrometheusText(64)
                .counter("x_total", "Things.", 7)
                .family("y", "gauge", "Per group.").sample("y", "group", "0", 3).sample("y", "group", "1", "4")
                .outcomes("z_total", "Results.", 5, 1)
                .family("u", "gauge", "Seconds.").sample("u", 1.5)
                .toString();
        assertEquals("""
                # HELP x_total Things.
                # TYPE x_total counter
                x_total 7
                # HELP y Per group.
                # TYPE y gauge
                y{group="0"} 3
                y{group="1"} 4
                # HELP z_total Results.
                # TYPE z_total counter
                z_total{result="success"} 5
                z_total{result="failure"} 1
                # HELP u Seconds.
                # TYPE u gauge
                u 1.500
                """, text);
    }

    @Test
    void shouldEscapeLabelValuesAndHelpSoNoValueBreaksTheFormat() {
        final String text = new PrometheusText(64)
                .family("n", "gauge", "Two\nlines \\ here.").sample("n", "k", "a\"b\\c\nd", 1).toString();
        assertEquals("# HELP n Two\\nlines \\\\ here.\n# TYPE n gauge\nn{k=\"a\\\"b\\\\c\\nd\"} 1\n", text);
    }
}
