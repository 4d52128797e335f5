package io.pgsentinel.sentinel.http;

import io.dropwizard.util.DataSize;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.shared.topology.Topology;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Role checks with Patroni's meanings, for HAProxy and load balancers: 200 when this host's
 * server is in the asked role, 503 otherwise; HEAD gives the same status without a body.
 */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
public final class HealthResource {
    private final SentinelView view;

    public HealthResource(SentinelView view) {
        this.view = view;
    }

    /** 200 if this host's server is the published primary and writable. */
    @GET
    @Path("primary")
    public Response primary() {
        MemberReport r = view.local();
        boolean ok = r != null && r.running() && r.role() == Role.PRIMARY && isPublishedPrimary() && "ok".equals(r.state());
        return answer(ok, r);
    }

    @HEAD
    @Path("primary")
    public Response primaryHead() {
        return primary();
    }

    /** 200 if this host's server is a streaming replica, within {@code ?lag=} if given (e.g. 16MB). */
    @GET
    @Path("replica")
    public Response replica(@QueryParam("lag") String lag) {
        long bound = Long.MAX_VALUE;
        if (lag != null) {
            try {
                bound = DataSize.parse(lag).toBytes();
            } catch (IllegalArgumentException e) {
                return Response.status(400).entity(Map.of("error",
                        "lag must be a size like 16MB or 1048576B, got '" + shorten(lag) + "'")).build();
            }
        }
        MemberReport r = view.local();
        Long lagBytes = lagBytes(r);
        boolean ok = r != null && r.isStreaming() && (bound == Long.MAX_VALUE || (lagBytes != null && lagBytes <= bound));
        return answer(ok, r);
    }

    @HEAD
    @Path("replica")
    public Response replicaHead(@QueryParam("lag") String lag) {
        return replica(lag);
    }

    /** 200 if this host's server can serve reads: the published primary, or a replica. */
    @GET
    @Path("read-only")
    public Response readOnly() {
        MemberReport r = view.local();
        boolean ok = r != null && r.running() && (r.role() == Role.REPLICA || isPublishedPrimary());
        return answer(ok, r);
    }

    @HEAD
    @Path("read-only")
    public Response readOnlyHead() {
        return readOnly();
    }

    /** 200 if this host's server is running. */
    @GET
    @Path("health")
    public Response health() {
        MemberReport r = view.local();
        return answer(r != null && r.running(), r);
    }

    @HEAD
    @Path("health")
    public Response healthHead() {
        return health();
    }

    private boolean isPublishedPrimary() {
        return view.cache().topology().map(t -> t.topology().primary().id().equals(view.nodeId())).orElse(false);
    }

    private Long lagBytes(MemberReport r) {
        return lagBytes(view, r);
    }

    /** How far this replica's replay is behind the primary's last reported flush position. */
    public static Long lagBytes(SentinelView view, MemberReport r) {
        if (r == null || r.role() != Role.REPLICA || r.replayLsn() < 0) {
            return null;
        }
        Topology t = view.cache().topology().map(v -> v.topology()).orElse(null);
        if (t == null) {
            return null;
        }
        MemberReport primary = view.cache().members().get(t.primary().id());
        if (primary != null && primary.running() && primary.flushLsn() >= 0) {
            return Math.max(0, primary.flushLsn() - r.replayLsn());
        }
        return t.replica(view.nodeId()).map(Topology.Replica::lagBytes).orElse(null);
    }

    private Response answer(boolean ok, MemberReport r) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", view.nodeId());
        body.put("running", r != null && r.running());
        body.put("role", r == null ? "unknown" : r.role().json());
        body.put("state", r == null ? "starting" : r.state());
        body.put("timeline", r == null ? 0 : r.timeline());
        Long lag = lagBytes(r);
        if (lag != null) {
            body.put("lagBytes", lag);
        }
        return Response.status(ok ? 200 : 503).entity(body).build();
    }

    private static String shorten(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
