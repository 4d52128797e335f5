package io.pgsentinel.sentinel.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.decision.ReinitCheck;
import io.pgsentinel.sentinel.decision.RemoveCheck;
import io.pgsentinel.sentinel.decision.SwitchoverCheck;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.sentinel.zk.OperatorRequests;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating endpoints, behind the API token: {@code POST /switchover},
 * {@code POST /maintenance}, {@code POST /reinit} and {@code POST /remove}. Bodies are read with a size limit and validated field by field: a
 * malformed request gets a 4xx naming what is wrong, never a 500.
 */
@Path("/")
@Mutating
@Consumes(MediaType.WILDCARD)
@Produces(MediaType.APPLICATION_JSON)
public final class ControlResource {
    private static final Logger LOG = LoggerFactory.getLogger(ControlResource.class);

    private final SentinelView view;
    private final OperatorRequests requests;
    private final int maxBodyBytes;

    public ControlResource(SentinelView view, OperatorRequests requests, int maxBodyBytes) {
        this.view = view;
        this.requests = requests;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** {@code {"candidate": "node3"}} (or {@code {}} for the best candidate): 202 when accepted. */
    @POST
    @Path("switchover")
    public Response switchover(InputStream body) {
        JsonNode doc;
        String candidate;
        try {
            doc = read(body, true);
            candidate = Fields.optionalText(doc, "candidate", "").orElse(null);
        } catch (DocumentException e) {
            return ApiAuth.error(e.field().equals("body") ? 413 : 400, "bad request: " + e.getMessage());
        }
        SwitchoverCheck.Verdict verdict = SwitchoverCheck.check(view.cache().topology().map(t -> t.topology()).orElse(null),
                view.cache().nodes(), view.cache().members(), candidate, view.cache().document("switchover").isPresent(),
                view.decision() != null && "failover".equals(view.decision().action()));
        if (!verdict.accepted()) {
            return ApiAuth.error(verdict.status(), verdict.refusal());
        }
        try {
            OperatorRequests.Requested r = requests.requestSwitchover(verdict.candidate(), "api@" + view.nodeId());
            if (!r.created()) {
                return ApiAuth.error(409, "a switchover is already requested or running");
            }
            LOG.info("switchover to {} requested over the API ({})", verdict.candidate(), r.id());
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("id", r.id());
            answer.put("candidate", verdict.candidate());
            answer.put("from", view.cache().topology().map(t -> t.topology().primary().id()).orElse(""));
            answer.put("status", "requested: follow GET /cluster");
            return Response.status(202).entity(answer).build();
        } catch (Exception e) {
            return ApiAuth.error(503, "ZooKeeper did not take the request: " + e.getMessage());
        }
    }

    /** {@code {"paused": true|false}}. */
    @POST
    @Path("maintenance")
    public Response maintenance(InputStream body) {
        boolean paused;
        try {
            JsonNode doc = read(body, false);
            if (!doc.has("paused")) {
                throw new DocumentException("paused", "is missing");
            }
            paused = Fields.bool(doc, "paused", "", false);
        } catch (DocumentException e) {
            return ApiAuth.error(e.field().equals("body") ? 413 : 400, "bad request: " + e.getMessage());
        }
        try {
            requests.setPaused(paused, "api@" + view.nodeId());
            LOG.info("automatic failover {} over the API", paused ? "paused" : "resumed");
            return Response.ok(Map.of("paused", paused)).build();
        } catch (Exception e) {
            return ApiAuth.error(503, "ZooKeeper did not take the request: " + e.getMessage());
        }
    }

    /** {@code {"node": "node2"}}: re-clone that replica (its old data directory is kept once); 202 when accepted. */
    @POST
    @Path("reinit")
    public Response reinit(InputStream body) {
        return nodeRequest(body, "reinit", node -> {
            ReinitCheck.Refusal r = ReinitCheck.check(view.cache().topology().map(t -> t.topology()).orElse(null),
                    view.cache().nodes(), node, node != null && view.cache().document("reinit/" + node).isPresent());
            return r == null ? null : ApiAuth.error(r.status(), r.reason());
        }, node -> requests.requestReinit(node, "api@" + view.nodeId()),
                "requested: follow GET /cluster (members[].sentinelState)");
    }

    /** {@code {"node": "node3"}}: take a stopped node out of the cluster for good; 202 when accepted. */
    @POST
    @Path("remove")
    public Response remove(InputStream body) {
        return nodeRequest(body, "removal", node -> {
            var verdict = RemoveCheck.check(view.cache().topology().map(t -> t.topology()).orElse(null),
                    view.cache().nodes(), view.cache().members(), node);
            return verdict.kind() == RemoveCheck.Kind.REFUSE ? ApiAuth.error(verdict.status(), verdict.reason()) : null;
        }, node -> requests.requestRemoval(node, "api@" + view.nodeId()),
                "requested: the leader removes it once safe (out of the synchronous set first)");
    }

    @FunctionalInterface
    private interface NodeRequest {
        OperatorRequests.Requested write(String node) throws Exception;
    }

    /** A request about one node: {@code {"node": ...}} read and checked, written to ZooKeeper, 202. */
    private Response nodeRequest(InputStream body, String what, java.util.function.Function<String, Response> refusal,
                                 NodeRequest write, String status) {
        String node;
        try {
            node = Fields.optionalText(read(body, false), "node", "").orElse(null);
        } catch (DocumentException e) {
            return ApiAuth.error(e.field().equals("body") ? 413 : 400, "bad request: " + e.getMessage());
        }
        Response refused = refusal.apply(node);
        if (refused != null) {
            return refused;
        }
        try {
            OperatorRequests.Requested r = write.write(node);
            if (!r.created()) {
                return ApiAuth.error(409, "a " + what + " of " + node + " is already requested");
            }
            LOG.info("{} of {} requested over the API ({})", what, node, r.id());
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("id", r.id());
            answer.put("node", node);
            answer.put("status", status);
            return Response.status(202).entity(answer).build();
        } catch (Exception e) {
            return ApiAuth.error(503, "ZooKeeper did not take the request: " + e.getMessage());
        }
    }

    private JsonNode read(InputStream body, boolean emptyIsObject) throws DocumentException {
        return readBody(body, maxBodyBytes, emptyIsObject);
    }

    /** A request's JSON object, at most {@code maxBodyBytes} (else a DocumentException on field "body"). */
    static JsonNode readBody(InputStream body, int maxBodyBytes, boolean emptyIsObject) throws DocumentException {
        byte[] bytes;
        try {
            bytes = body == null ? new byte[0] : body.readNBytes(maxBodyBytes + 1);
        } catch (IOException e) {
            throw new DocumentException("", "unreadable body");
        }
        if (bytes.length > maxBodyBytes) {
            throw new DocumentException("body", "larger than " + maxBodyBytes + " bytes");
        }
        if (bytes.length == 0 && emptyIsObject) {
            return Fields.mapper().createObjectNode();
        }
        return Fields.parseObject(bytes);
    }
}
