package io.pgsentinel.sentinel.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.loop.LatestDecision;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads the leader's decision node; a malformed one is logged and shown as no decision. */
final class DecisionDocument {
    private static final Logger LOG = LoggerFactory.getLogger(DecisionDocument.class);

    private DecisionDocument() {
    }

    static Optional<LatestDecision> parse(byte[] bytes) {
        try {
            JsonNode o = Fields.parseObject(bytes);
            return Optional.of(new LatestDecision(Fields.text(o, "leader", ""), Fields.text(o, "action", ""),
                    Fields.text(o, "summary", ""), Fields.text(o, "reason", ""), Fields.instant(o, "at", "")));
        } catch (DocumentException e) {
            LOG.warn("ignoring the decision node: {}", e.getMessage());
            return Optional.empty();
        }
    }
}
