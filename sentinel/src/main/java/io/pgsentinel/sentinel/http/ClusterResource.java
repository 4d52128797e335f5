package io.pgsentinel.sentinel.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.loop.LatestDecision;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.sentinel.status.ClusterStatus;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /cluster}: every registered member with its sentinel's latest report, the votes,
 * the leader, and the leader's latest decision with its reason ("why not promoted").
 */
@Path("/cluster")
@Produces(MediaType.APPLICATION_JSON)
public final class ClusterResource {
    private final SentinelView view;

    public ClusterResource(SentinelView view) {
        this.view = view;
    }

    @GET
    public ObjectNode cluster() {
        LatestDecision d = view.decision();
        ClusterStatus.Decision decision = d == null ? null
                : new ClusterStatus.Decision(d.leader(), d.action(), d.summary(), d.reason(), d.at().toString());
        return ClusterStatus.document(view.cluster(), view.leadership().leaderId(), view.cache(), decision);
    }
}
