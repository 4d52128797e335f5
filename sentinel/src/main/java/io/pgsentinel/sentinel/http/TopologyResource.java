package io.pgsentinel.sentinel.http;

import io.pgsentinel.sentinel.loop.SentinelView;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/** {@code GET /topology}: the topology document as this sentinel last saw it in ZooKeeper. */
@Path("/topology")
@Produces(MediaType.APPLICATION_JSON)
public final class TopologyResource {
    private final SentinelView view;

    public TopologyResource(SentinelView view) {
        this.view = view;
    }

    @GET
    public Response topology() {
        return view.cache().topology()
                .map(t -> Response.ok(t.raw()).header("X-Topology-Epoch", t.topology().epoch()).build())
                .orElseGet(() -> Response.status(503).entity(Map.of("error", "no topology is published yet")).build());
    }
}
