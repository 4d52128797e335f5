package io.pgsentinel.shared.client;

import io.pgsentinel.shared.json.Fields;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For a client without ZooKeeper access: polls {@code GET /topology} on a list of sentinels,
 * every one each round, and applies the same rules as the ZooKeeper watcher (validation, the
 * epoch rule), so the highest epoch any reachable sentinel knows wins.
 */
public final class HttpTopologyPoller extends TrackedTopologySource {
    private static final Logger LOG = LoggerFactory.getLogger(HttpTopologyPoller.class);

    private final List<URI> endpoints;
    private final Duration timeout;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;

    private HttpTopologyPoller(Builder b) {
        super(b.cluster);
        this.endpoints = b.sentinels.stream().map(u -> u.resolve("/topology")).toList();
        this.timeout = b.timeout;
        this.http = HttpClient.newBuilder().connectTimeout(b.timeout).build();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pg-sentinel-topology-poller");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::pollAll, 0, b.interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** @param sentinels base URLs of sentinels, e.g. {@code http://10.0.0.11:8008} */
    public static Builder builder(String cluster, List<URI> sentinels) {
        return new Builder(cluster, sentinels);
    }

    public static final class Builder {
        private final String cluster;
        private final List<URI> sentinels;
        private Duration interval = Duration.ofSeconds(1);
        private Duration timeout = Duration.ofSeconds(2);

        private Builder(String cluster, List<URI> sentinels) {
            if (sentinels.isEmpty()) {
                throw new IllegalArgumentException("at least one sentinel URL is needed");
            }
            this.cluster = cluster;
            this.sentinels = List.copyOf(sentinels);
        }

        public Builder interval(Duration value) {
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException("interval must be positive, got " + value);
            }
            this.interval = value;
            return this;
        }

        /** Connect and response timeout of each request. */
        public Builder timeout(Duration value) {
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + value);
            }
            this.timeout = value;
            return this;
        }

        public HttpTopologyPoller start() {
            return new HttpTopologyPoller(this);
        }
    }

    private void pollAll() {
        for (URI endpoint : endpoints) {
            try {
                HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(timeout).GET().build();
                HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        LOG.debug("{} answered {}", endpoint, response.statusCode());
                        continue;
                    }
                    byte[] bytes = body.readNBytes(Fields.MAX_DOCUMENT_BYTES + 1);
                    tracker.offer(bytes, endpoint.toString());
                }
            } catch (IOException e) {
                LOG.debug("{} unreachable: {}", endpoint, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.warn("polling {} failed", endpoint, e);
            }
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
