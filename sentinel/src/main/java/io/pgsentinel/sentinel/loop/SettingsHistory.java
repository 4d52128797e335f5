package io.pgsentinel.sentinel.loop;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.shared.json.Fields;
import java.util.Set;
import java.util.TreeSet;

/** What the cluster's settings history ({@code config-history/}) tells: every name a kind of key ever had. */
final class SettingsHistory {
    private SettingsHistory() {
    }

    /**
     * Every name under {@code prefix} ("postgresql.parameters.", "slots.") that a change ever
     * named: those the settings no longer hold are to be reset or dropped.
     */
    static Set<String> everNamed(ClusterCache cache, String prefix) {
        Set<String> names = new TreeSet<>();
        for (String entry : cache.documentsUnder("config-history/")) {
            cache.document(entry).ifPresent(bytes -> {
                try {
                    for (JsonNode change : Fields.parseObject(bytes).path("changes")) {
                        String key = change.path("key").asText("");
                        if (key.startsWith(prefix)) {
                            names.add(key.substring(prefix.length()));
                        }
                    }
                } catch (Exception e) {
                    // a malformed history entry names nothing
                }
            });
        }
        return names;
    }
}
