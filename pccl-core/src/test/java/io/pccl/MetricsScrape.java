package io.pccl;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads a metrics endpoint (the master's or a peer's) over loopback HTTP for system tests, with every wait bounded.
 *
 * <p>Thread-safe (the JDK's client is).
 */
final class MetricsScrape {
    static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final Duration BOUND = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(BOUND).build();

    /** One request; the body whatever the status. */
    HttpResponse<String> get(final int port, final String path, final String method) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://" + LOOPBACK + ":" + port + path))
                .timeout(BOUND).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of one scrape, by name with labels; checks the content type and that every sample has a TYPE. */
    Map<String, Double> samples(final int port) throws Exception {
        final HttpResponse<String> r = get(port, "/metrics", "GET");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("content-type").orElse(""));
        final Map<String, Double> samples = new HashMap<>();
        String typed = null;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("# TYPE ")) {
                typed = line.split(" ")[2];
            } else if (!line.startsWith("#")) {
                final int space = line.lastIndexOf(' ');
                final String name = line.substring(0, space);
                assertTrue(typed != null && name.startsWith(typed), "sample without its TYPE: " + line);
                samples.put(name, Double.parseDouble(line.substring(space + 1)));
            }
        }
        return samples;
    }
}
