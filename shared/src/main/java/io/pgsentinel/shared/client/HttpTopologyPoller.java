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
 * epoch rule), so the highest epoch any reachable sentinel knows wins. With {@code followEvents}
 * (the default) it also follows each sentinel's {@code GET /events} stream, so a change arrives
 * within milliseconds of its publication; polling stays as the fallback (a sentinel without the
 * stream, a stream cut silently: one silent for 35 s, three heartbeats, is dropped and opened anew).
 */
public final class HttpTopologyPoller extends TrackedTopologySource {
    private static final Logger LOG = LoggerFactory.getLogger(HttpTopologyPoller.class);

    private final List<URI> endpoints;
    private final Duration timeout;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final java.util.Map<URI, Follower> followers = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean closed;

    /** One sentinel's event stream: the body being read, and when its last line came. */
    private static final class Follower {
        volatile java.util.stream.Stream<String> body;
        volatile long lastLineNanos = System.nanoTime();
    }

    private static final long SILENT_NANOS = Duration.ofSeconds(35).toNanos();

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
        if (b.followEvents) {
            for (URI sentinel : b.sentinels) {
                URI events = sentinel.resolve("/events");
                Follower f = new Follower();
                followers.put(events, f);
                Thread t = new Thread(() -> follow(events, f), "pg-sentinel-topology-events");
                t.setDaemon(true);
                t.start();
            }
            scheduler.scheduleWithFixedDelay(this::dropSilentStreams, 5, 5, TimeUnit.SECONDS);
        }
    }

    /** Reads one sentinel's event stream, reconnecting after a second when it ends or fails. */
    private void follow(URI events, Follower f) {
        while (!closed) {
            try {
                HttpRequest request = HttpRequest.newBuilder(events).timeout(timeout)
                        .header("Accept", "text/event-stream").GET().build();
                HttpResponse<java.util.stream.Stream<String>> response = http.send(request,
                        HttpResponse.BodyHandlers.ofLines());
                try (java.util.stream.Stream<String> lines = response.body()) {
                    if (response.statusCode() == 200) {
                        f.body = lines;
                        f.lastLineNanos = System.nanoTime();
                        readEvents(lines.iterator(), events, f);
                    } else {
                        LOG.debug("{} answered {}", events, response.statusCode());
                    }
                } finally {
                    f.body = null;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("{}: {}", events, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                Thread.sleep(1000); // the sentinel restarts, or has no event stream: polling covers meanwhile
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void readEvents(java.util.Iterator<String> lines, URI events, Follower f) {
        String name = "message";
        StringBuilder data = new StringBuilder();
        while (!closed && lines.hasNext()) {
            String line = lines.next();
            f.lastLineNanos = System.nanoTime();
            if (line.isEmpty()) {
                if (name.equals("topology") && data.length() > 0) {
                    tracker.offer(data.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), events.toString());
                }
                name = "message";
                data.setLength(0);
            } else if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:") && data.length() <= Fields.MAX_DOCUMENT_BYTES) {
                data.append(data.length() > 0 ? "\n" : "").append(line.substring(5).stripLeading());
            }
        }
    }

    /** A stream silent past three heartbeats is cut somewhere: closed, so that its follower opens it anew. */
    private void dropSilentStreams() {
        long now = System.nanoTime();
        followers.forEach((uri, f) -> {
            var body = f.body;
            if (body != null && now - f.lastLineNanos > SILENT_NANOS) {
                LOG.debug("{} silent for {} s: reopening", uri, (now - f.lastLineNanos) / 1_000_000_000L);
                body.close();
            }
        });
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
        private boolean followEvents = true;

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

        /** Also follow each sentinel's {@code GET /events} stream (default true). */
        public Builder followEvents(boolean value) {
            this.followEvents = value;
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
        closed = true;
        scheduler.shutdownNow();
        followers.values().forEach(f -> {
            var body = f.body;
            if (body != null) {
                body.close();
            }
        });
    }
}
