package io.pgsentinel.sentinel.http;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.shared.json.Fields;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /events}: a Server-Sent Events stream of the topology, for clients in any language
 * with no ZooKeeper library. On connecting, and on every change this sentinel reads from
 * ZooKeeper, an event {@code topology} whose data is the topology document on one line and whose
 * id is {@code <epoch>.<node version>}; a comment {@code : heartbeat} every few seconds keeps
 * proxies from closing an idle stream and lets the client notice a dead one. At most
 * {@code api.maxEventSubscribers} streams at once (one more gets 503); authenticated like the
 * other read endpoints when they are. Sends happen on one thread of their own, never on
 * ZooKeeper's.
 */
@Path("/events")
public final class EventsResource implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(EventsResource.class);

    private record Subscriber(SseEventSink sink, Sse sse) {
    }

    private final ClusterCache cache;
    private final int maxSubscribers;
    private final Duration heartbeat;
    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    private final AtomicReference<ClusterCache.VersionedTopology> lastSent = new AtomicReference<>();
    private final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-events");
        t.setDaemon(true);
        return t;
    });

    public EventsResource(ClusterCache cache, int maxSubscribers, Duration heartbeat) {
        this.cache = cache;
        this.maxSubscribers = maxSubscribers;
        this.heartbeat = heartbeat;
        cache.addTopologyListener(t -> sender.execute(() -> broadcast(t)));
    }

    @Override
    public void start() {
        sender.scheduleWithFixedDelay(this::heartbeat, heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        sender.shutdownNow();
        subscribers.forEach(s -> closeQuietly(s.sink()));
        subscribers.clear();
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void events(@Context SseEventSink sink, @Context Sse sse) {
        Subscriber s = new Subscriber(sink, sse);
        synchronized (subscribers) {
            if (subscribers.size() >= maxSubscribers) {
                throw new WebApplicationException(Response.status(503).type(MediaType.APPLICATION_JSON)
                        .entity(Map.of("error", "too many event subscribers (api.maxEventSubscribers is " + maxSubscribers
                                + ")")).build());
            }
            subscribers.add(s);
        }
        sender.execute(() -> {
            var current = cache.topology().orElse(null);
            if (current != null) {
                send(s, current);
            } else {
                send(s, sse.newEventBuilder().comment("no topology is published yet").build());
            }
        });
    }

    /** How many clients follow the stream now. */
    public int subscribers() {
        return subscribers.size();
    }

    private void broadcast(ClusterCache.VersionedTopology t) {
        ClusterCache.VersionedTopology before = lastSent.getAndSet(t);
        if (before != null && before.version() == t.version() && before.topology().epoch() == t.topology().epoch()) {
            return; // the same node version read again (a reconnection): nothing changed
        }
        for (Subscriber s : subscribers) {
            send(s, t);
        }
    }

    private void heartbeat() {
        try {
            for (Subscriber s : subscribers) {
                send(s, s.sse().newEventBuilder().comment("heartbeat").build());
            }
        } catch (RuntimeException e) {
            LOG.warn("events: heartbeat failed: {}", e.toString()); // a throw would cancel the schedule
        }
    }

    private void send(Subscriber s, ClusterCache.VersionedTopology t) {
        String line;
        try {
            line = Fields.parseObject(t.raw()).toString(); // one line: SSE data ends at a newline
        } catch (Exception e) {
            LOG.warn("events: the topology could not be re-encoded: {}", e.getMessage());
            return;
        }
        send(s, s.sse().newEventBuilder().name("topology").id(t.topology().epoch() + "." + t.version())
                .mediaType(MediaType.APPLICATION_JSON_TYPE).data(String.class, line).build());
    }

    private void send(Subscriber s, OutboundSseEvent event) {
        if (s.sink().isClosed()) {
            subscribers.remove(s);
            return;
        }
        try {
            s.sink().send(event).whenComplete((ok, failed) -> {
                if (failed != null) {
                    drop(s); // the client went away
                }
            });
        } catch (RuntimeException e) {
            drop(s); // closed under us (Jetty closes a sink on its own thread): never let it stop the others
        }
    }

    private void drop(Subscriber s) {
        subscribers.remove(s);
        closeQuietly(s.sink());
    }

    private static void closeQuietly(SseEventSink sink) {
        try {
            sink.close();
        } catch (Exception e) {
            // gone already
        }
    }
}
