package io.pccl.transport;

import java.util.Locale;

/**
 * Writes the Prometheus text exposition format (version 0.0.4): each metric family is a {@code # HELP} and a
 * {@code # TYPE} line followed by its samples. Label values are escaped as the format requires (backslash, double
 * quote, line feed), so a value taken from a peer cannot break the text.
 *
 * <p>Not thread-safe: one writer renders one scrape.
 */
public final class PrometheusText {
    /** The {@code Content-Type} of the format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out;

    /**
     * @param capacityHint initial buffer size in characters
     */
    public PrometheusText(final int capacityHint) {
        this.out = new StringBuilder(capacityHint);
    }

    /**
     * Starts a family: its help and type lines.
     *
     * @param name the metric name
     * @param type {@code gauge} or {@code counter}
     * @param help one line of help
     * @return this
     */
    public PrometheusText family(final String name, final String type, final String help) {
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /**
     * A sample without labels.
     *
     * @param name the metric name
     * @param value the value
     * @return this
     */
    public PrometheusText sample(final String name, final long value) {
        out.append(name).append(' ').append(value).append('\n');
        return this;
    }

    /**
     * A sample without labels.
     *
     * @param name the metric name
     * @param value the value (three decimals)
     * @return this
     */
    public PrometheusText sample(final String name, final double value) {
        out.append(name).append(' ').append(String.format(Locale.ROOT, "%.3f", value)).append('\n');
        return this;
    }

    /**
     * A sample with one label.
     *
     * @param name the metric name
     * @param label the label name
     * @param labelValue the label value (escaped here)
     * @param value the value, already formatted
     * @return this
     */
    public PrometheusText sample(final String name, final String label, final String labelValue,
                                 final String value) {
        out.append(name).append('{').append(label).append("=\"");
        escape(labelValue);
        out.append("\"} ").append(value).append('\n');
        return this;
    }

    /**
     * A sample with one label.
     *
     * @param name the metric name
     * @param label the label name
     * @param labelValue the label value (escaped here)
     * @param value the value
     * @return this
     */
    public PrometheusText sample(final String name, final String label, final String labelValue, final long value) {
        return sample(name, label, labelValue, Long.toString(value));
    }

    /**
     * A gauge family of one unlabelled sample.
     *
     * @param name the metric name
     * @param help one line of help
     * @param value the value
     * @return this
     */
    public PrometheusText gauge(final String name, final String help, final long value) {
        return family(name, "gauge", help).sample(name, value);
    }

    /**
     * A counter family of one unlabelled sample.
     *
     * @param name the metric name
     * @param help one line of help
     * @param value the value
     * @return this
     */
    public PrometheusText counter(final String name, final String help, final long value) {
        return family(name, "counter", help).sample(name, value);
    }

    /**
     * A counter family split by {@code result="success"} and {@code result="failure"}.
     *
     * @param name the metric name
     * @param help one line of help
     * @param succeeded the successes
     * @param failed the failures
     * @return this
     */
    public PrometheusText outcomes(final String name, final String help, final long succeeded, final long failed) {
        return family(name, "counter", help).sample(name, "result", "success", succeeded)
                .sample(name, "result", "failure", failed);
    }

    private void escape(final String value) {
        for (int i = 0; i < value.length(); i++) {
            final char c = value.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
