package io.pccl.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import io.pccl.transport.netty.NettyTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MetricsEndpoint} over loopback: what each path answers, and the bound on an executor that does not answer. */
@Timeout(60)
class MetricsEndpointTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(BOUND).build();

    private HttpResponse<String> get(final MetricsEndpoint endpoint, final String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.localAddress().getPort()
                + path)).timeout(BOUND).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeMetricsAndHealthAndAnswer503WhenTheExecutorIsStuck() throws Exception {
        final EventLoopGroup loop = NettyTransport.newEventLoopGroup(1, "metrics-test");
        final EventExecutor owner = new DefaultEventExecutor();
        final CountDownLatch release = new CountDownLatch(1);
        try (MetricsEndpoint endpoint = MetricsEndpoint.bind(loop, loop, "127.0.0.1", 0, owner,
                () -> new PrometheusText(64).counter("x_total", "X.", 3).toString())) {
            final HttpResponse<String> metrics = get(endpoint, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertEquals(PrometheusText.CONTENT_TYPE, metrics.headers().firstValue("content-type").orElse(""));
            assertTrue(metrics.body().contains("x_total 3"), metrics.body());
            final HttpResponse<String> health = get(endpoint, "/healthz");
            assertEquals(200, health.statusCode());
            assertEquals("ok\n", health.body());
            final HttpResponse<String> other = get(endpoint, "/");
            assertEquals(404, other.statusCode());
            assertTrue(other.body().contains("/metrics") && other.body().contains("/healthz"), other.body());

            owner.execute(() -> {
                try {
                    release.await(BOUND.toSeconds(), TimeUnit.SECONDS); // the owner's thread is stuck
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            final long t0 = System.nanoTime();
            final HttpResponse<String> stuck = get(endpoint, "/healthz");
            final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(503, stuck.statusCode(), stuck.body());
            assertTrue(stuck.body().startsWith("/healthz was not answered within " + MetricsEndpoint.RENDER_BOUND_MS
                    + " ms"), stuck.body());
            assertTrue(waitedMs >= MetricsEndpoint.RENDER_BOUND_MS - 100, "answered after " + waitedMs + " ms");
        } finally {
            release.countDown();
            owner.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
