package io.pgsentinel.sentinel.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.sentinel.loop.SettingsEditor;
import io.pgsentinel.sentinel.zk.SettingsStore;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's settings: {@code GET /config} shows them with their version and recent changes;
 * {@code POST /config} (behind the API token) changes them, checked and compare-and-set.
 */
@Path("/config")
@Produces(MediaType.APPLICATION_JSON)
public final class ConfigResource {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigResource.class);
    private static final int HISTORY_SHOWN = 20;

    private final SentinelView view;
    private final SettingsEditor editor;
    private final int maxBodyBytes;

    public ConfigResource(SentinelView view, SettingsEditor editor, int maxBodyBytes) {
        this.view = view;
        this.editor = editor;
        this.maxBodyBytes = maxBodyBytes;
    }

    @GET
    public Response show() {
        SettingsStore.Versioned s = view.cache().settings().orElse(null);
        if (s == null) {
            return ApiAuth.error(503, "the cluster has no settings yet: they are created by its first leader");
        }
        ObjectNode body = Fields.mapper().createObjectNode();
        body.put("version", s.version());
        body.set("settings", s.settings().toTree());
        ArrayNode history = body.putArray("history");
        List<String> entries = view.cache().documentsUnder("config-history/");
        for (int i = entries.size() - 1; i >= 0 && history.size() < HISTORY_SHOWN; i--) {
            view.cache().document(entries.get(i)).ifPresent(bytes -> {
                try {
                    history.add(Fields.parseObject(bytes));
                } catch (DocumentException e) {
                    // a malformed entry is left out
                }
            });
        }
        return Response.ok(body).header("X-Config-Version", s.version()).build();
    }

    /**
     * {@code {"set": {"failureDetection.downAfter": "5s", "postgresql.parameters.work_mem": "8MB"},
     * "remove": ["postgresql.parameters.x"], "version": 3}}: 200 with the changes; 400 naming a bad
     * key or value; 409 when the settings changed since {@code version}; nothing is half-applied.
     */
    @POST
    @Mutating
    @Consumes(MediaType.WILDCARD)
    public Response change(InputStream body) {
        Map<String, String> set = new TreeMap<>();
        Set<String> remove = new TreeSet<>();
        Integer version;
        try {
            JsonNode doc = read(body);
            if (doc.has("set")) {
                JsonNode s = Fields.object(doc, "set", "");
                Iterator<Map.Entry<String, JsonNode>> it = s.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                        throw new DocumentException("set." + e.getKey(), "must be a text, number or boolean");
                    }
                    set.put(e.getKey(), e.getValue().asText());
                }
            }
            if (doc.has("remove")) {
                for (JsonNode k : Fields.array(doc, "remove", "", 1000)) {
                    if (!k.isTextual()) {
                        throw new DocumentException("remove", "must be a list of keys");
                    }
                    remove.add(k.asText());
                }
            }
            version = doc.has("version") ? (int) Fields.integer(doc, "version", "", 0, Integer.MAX_VALUE) : null;
            if (set.isEmpty() && remove.isEmpty()) {
                throw new DocumentException("set", "nothing to change: give \"set\" or \"remove\"");
            }
        } catch (DocumentException e) {
            return ApiAuth.error(e.field().equals("body") ? 413 : 400, "bad request: " + e.getMessage());
        }
        try {
            SettingsEditor.Result r = editor.change(set, remove, version, "api@" + view.nodeId());
            if (r.status() != 200) {
                return ApiAuth.error(r.status(), r.message());
            }
            if (r.applied()) {
                LOG.info("cluster settings changed over the API: {}", r.changes());
            }
            ObjectNode answer = Fields.mapper().createObjectNode();
            answer.put("version", r.version());
            answer.put("message", r.message());
            ArrayNode changes = answer.putArray("changes");
            for (ClusterSettings.Change c : r.changes()) {
                ObjectNode o = changes.addObject();
                o.put("key", c.key());
                o.put("from", c.from());
                o.put("to", c.to());
            }
            ArrayNode pending = answer.putArray("pendingRestart");
            r.pendingRestart().forEach(pending::add);
            return Response.ok(answer).build();
        } catch (Exception e) {
            return ApiAuth.error(503, "ZooKeeper did not take the change: " + e.getMessage());
        }
    }

    private JsonNode read(InputStream body) throws DocumentException {
        return ControlResource.readBody(body, maxBodyBytes, false);
    }
}
