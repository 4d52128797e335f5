package io.pgsentinel.sentinel.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code GET /history}: failovers and switchovers, newest first, with the time of each stage. */
@Path("/history")
@Produces(MediaType.APPLICATION_JSON)
public final class HistoryResource {
    private static final Logger LOG = LoggerFactory.getLogger(HistoryResource.class);
    private final SentinelView view;

    public HistoryResource(SentinelView view) {
        this.view = view;
    }

    @GET
    public List<JsonNode> history() {
        List<String> entries = view.cache().documentsUnder("history/");
        List<JsonNode> result = new ArrayList<>();
        for (int i = entries.size() - 1; i >= 0; i--) {
            String entry = entries.get(i);
            try {
                JsonNode h = Fields.parseObject(view.cache().document(entry).orElseThrow());
                Fields.integer(h, "epoch", "", 1, Long.MAX_VALUE);
                Fields.text(h, "kind", "");
                result.add(h);
            } catch (DocumentException | RuntimeException e) {
                LOG.warn("ignoring history entry {}: {}", entry, e.getMessage());
            }
        }
        return result;
    }
}
