package io.pgsentinel.sentinel.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.loop.FailsafeLeases;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /failsafe/lease {"primary": "node1", "epoch": 3, "durationMs": 4000}}, between
 * sentinels (authenticated): granted only by a sentinel that cannot reach ZooKeeper either (its
 * session is not connected, or a sync gets no answer within 250 ms), and
 * that knows the asker as the primary of the same epoch. The grant is a promise: until the lease
 * ends this sentinel does not vote that primary down, lead or promote.
 */
@Path("/failsafe/lease")
@Mutating
@Consumes(MediaType.WILDCARD)
@Produces(MediaType.APPLICATION_JSON)
public final class FailsafeResource {
    private static final Logger LOG = LoggerFactory.getLogger(FailsafeResource.class);
    private static final long MAX_LEASE_MILLIS = 60_000;
    /** Well within the asker's 500 ms wait for an answer. */
    private static final Duration ZOOKEEPER_CHECK = Duration.ofMillis(250);

    private final SentinelView view;
    private final FailsafeLeases leases;

    public FailsafeResource(SentinelView view, FailsafeLeases leases) {
        this.view = view;
        this.leases = leases;
    }

    @POST
    public Response lease(InputStream body) {
        String primary;
        long epoch;
        long duration;
        try {
            JsonNode doc = Fields.parseObject(body.readNBytes(4096));
            primary = Fields.text(doc, "primary", "");
            epoch = Fields.integer(doc, "epoch", "", 1, Long.MAX_VALUE);
            duration = Fields.integer(doc, "durationMs", "", 1, MAX_LEASE_MILLIS);
        } catch (DocumentException | IOException e) {
            return ApiAuth.error(400, "bad request: " + e.getMessage());
        }
        if (view.session().answers(ZOOKEEPER_CHECK)) {
            return refuse("this sentinel is connected to ZooKeeper");
        }
        Topology t = view.cache().topology().map(v -> v.topology()).orElse(null);
        if (t == null || !t.primary().id().equals(primary) || t.epoch() != epoch) {
            return refuse("this sentinel knows " + (t == null ? "no topology" : t.primary().id() + " as the primary of epoch "
                    + t.epoch()));
        }
        boolean renewal = leases.remainingMillis(primary) > 0;
        leases.grant(primary, duration);
        if (renewal) {
            LOG.debug("failsafe: lease renewed for {} ({} ms)", primary, duration);
        } else {
            LOG.warn("failsafe: lease granted to {} for {} ms: this sentinel will not vote it down, lead or promote "
                    + "meanwhile; renewals are logged at DEBUG", primary, duration);
        }
        return Response.ok(Map.of("granted", true, "by", view.nodeId(), "durationMs", duration)).build();
    }

    private Response refuse(String why) {
        return Response.status(409).type(MediaType.APPLICATION_JSON)
                .entity(Map.of("granted", false, "by", view.nodeId(), "reason", why)).build();
    }
}
