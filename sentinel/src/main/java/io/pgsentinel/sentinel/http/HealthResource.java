package io.pgsentinel.sentinel.http;

import io.dropwizard.util.DataSize;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.model.Standby;
import io.pgsentinel.shared.topology.Topology;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.UriInfo;
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

    /** Patroni's {@code /read-write}: the same as {@code /primary}. */
    @GET
    @Path("read-write")
    public Response readWrite() {
        return primary();
    }

    @HEAD
    @Path("read-write")
    public Response readWriteHead() {
        return primary();
    }

    /** Patroni's {@code /leader} (the node that holds the leader lock, the primary): the same as {@code /primary}. */
    @GET
    @Path("leader")
    public Response leader() {
        return primary();
    }

    @HEAD
    @Path("leader")
    public Response leaderHead() {
        return primary();
    }

    /**
     * 200 if this host's server is a streaming replica, within {@code ?lag=} if given (e.g. 16MB),
     * not tagged {@code noloadbalance}, and with every {@code ?tag_KEY=VALUE} matching its tags.
     */
    @GET
    @Path("replica")
    public Response replica(@QueryParam("lag") String lag, @Context UriInfo uri) {
        Long bound = lagBound(lag);
        if (bound == null) {
            return badLag(lag);
        }
        MemberReport r = view.local();
        RegisteredNode self = view.cache().nodes().get(view.nodeId());
        boolean ok = streamingWithin(r, bound) && (self == null || !self.noLoadBalance()) && tagsMatch(self, uri);
        return answer(ok, r);
    }

    @HEAD
    @Path("replica")
    public Response replicaHead(@QueryParam("lag") String lag, @Context UriInfo uri) {
        return replica(lag, uri);
    }

    /** 200 if this host's server is a standby the primary counts in its synchronous quorum ({@code ANY k}). */
    @GET
    @Path("sync")
    public Response sync() {
        MemberReport r = view.local();
        return answer(r != null && r.isStreaming() && isSynchronous(syncStateOnPrimary()), r);
    }

    @HEAD
    @Path("sync")
    public Response syncHead() {
        return sync();
    }

    /** Patroni's {@code /quorum}: a standby counted in the quorum; every synchronous standby is, here ({@code ANY k}). */
    @GET
    @Path("quorum")
    public Response quorum() {
        return sync();
    }

    @HEAD
    @Path("quorum")
    public Response quorumHead() {
        return sync();
    }

    /** 200 if this host's server is a streaming standby the primary does not wait for. */
    @GET
    @Path("async")
    public Response async() {
        MemberReport r = view.local();
        String state = syncStateOnPrimary();
        return answer(r != null && r.isStreaming() && state != null && !isSynchronous(state), r);
    }

    @HEAD
    @Path("async")
    public Response asyncHead() {
        return async();
    }

    /**
     * 200 while the sentinel's cycle runs (it ended within the last {@link #LIVENESS_MILLIS}), for a
     * supervisor's liveness probe: it says nothing of the server.
     */
    @GET
    @Path("liveness")
    public Response liveness() {
        long since = view.loop().millisSinceLastCycle();
        boolean ok = since >= 0 && since <= LIVENESS_MILLIS;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", view.nodeId());
        body.put("lastCycleMsAgo", since);
        return Response.status(ok ? 200 : 503).entity(body).build();
    }

    @HEAD
    @Path("liveness")
    public Response livenessHead() {
        return liveness();
    }

    /**
     * 200 when this host's server is ready to serve: the published, writable primary, or a
     * streaming replica within {@code ?lag=} (default: the cluster's maxLagOnFailover).
     */
    @GET
    @Path("readiness")
    public Response readiness(@QueryParam("lag") String lag) {
        Long bound = lag == null ? Long.valueOf(view.maxLagBytes()) : lagBound(lag);
        if (bound == null) {
            return badLag(lag);
        }
        Response asPrimary = primary();
        if (asPrimary.getStatus() == 200) {
            return asPrimary;
        }
        MemberReport r = view.local();
        return answer(streamingWithin(r, bound), r);
    }

    @HEAD
    @Path("readiness")
    public Response readinessHead(@QueryParam("lag") String lag) {
        return readiness(lag);
    }

    /** How long the cycle may not have run before {@code /liveness} says 503. */
    static final long LIVENESS_MILLIS = 10_000;

    /** The bound of {@code ?lag=}, Long.MAX_VALUE when absent, null when malformed. */
    private static Long lagBound(String lag) {
        if (lag == null) {
            return Long.MAX_VALUE;
        }
        try {
            return DataSize.parse(lag).toBytes();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static Response badLag(String lag) {
        return Response.status(400).entity(Map.of("error",
                "lag must be a size like 16MB or 1048576B, got '" + shorten(lag) + "'")).build();
    }

    private boolean streamingWithin(MemberReport r, long bound) {
        Long lagBytes = lagBytes(r);
        return r != null && r.isStreaming() && (bound == Long.MAX_VALUE || (lagBytes != null && lagBytes <= bound));
    }

    /** This node's sync_state as the published primary reports it (async, potential, sync, quorum), or null. */
    private String syncStateOnPrimary() {
        Topology t = view.cache().topology().map(v -> v.topology()).orElse(null);
        MemberReport primary = t == null ? null : view.cache().members().get(t.primary().id());
        if (primary == null || !primary.running() || primary.role() != Role.PRIMARY) {
            return null;
        }
        return primary.standbys().stream().filter(s -> s.name().equals(view.nodeId()) && "streaming".equals(s.state()))
                .map(Standby::syncState).findFirst().orElse(null);
    }

    private static boolean isSynchronous(String syncState) {
        return "sync".equals(syncState) || "quorum".equals(syncState);
    }

    /** Patroni's tag filters: every {@code tag_KEY=VALUE} parameter must equal this node's tag. */
    private static boolean tagsMatch(RegisteredNode self, UriInfo uri) {
        if (uri == null) {
            return true;
        }
        for (var e : uri.getQueryParameters().entrySet()) {
            if (!e.getKey().startsWith("tag_")) {
                continue;
            }
            String value = self == null ? null : self.tag(e.getKey().substring(4));
            for (String wanted : e.getValue()) {
                if (value == null || !value.equalsIgnoreCase(wanted)) {
                    return false;
                }
            }
        }
        return true;
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
