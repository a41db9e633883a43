package org.bufcached.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The test parser must reject what Prometheus would, or the endpoint test proves nothing. */
class PrometheusTextTest {

    @Test
    void acceptsWellFormedText() {
        PrometheusText t = PrometheusText.parse("# HELP a_total things\n# TYPE a_total counter\n"
                + "a_total{x=\"1\",y=\"q\\\"\"} 3.0\n"
                + "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1.5\n");
        assertThat(t.value("a_total", "x", "1", "y", "q\\\"")).isEqualTo(3.0);
        assertThat(t.value("h_count")).isEqualTo(2.0);
    }

    @Test
    void rejectsMalformedText() {
        assertThatThrownBy(() -> PrometheusText.parse("a 1\n")).hasMessageContaining("without a TYPE");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na{x=1} 1\n")).hasMessageContaining("labels");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na 1\na 2\n")).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na one\n")).hasMessageContaining("value");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE a gauge\na 1")).hasMessageContaining("newline");
        assertThatThrownBy(() -> PrometheusText.parse("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n")).hasMessageContaining("cumulative");
    }
}
