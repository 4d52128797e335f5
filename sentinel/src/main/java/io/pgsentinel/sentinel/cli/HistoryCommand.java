package io.pgsentinel.sentinel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.setup.Bootstrap;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.shared.json.Fields;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/** {@code history config.yml [--json]}: failovers and switchovers, newest first, with stage durations. */
public final class HistoryCommand extends ConfiguredCommand<SentinelConfiguration> {

    public HistoryCommand() {
        super("history", "Show failovers and switchovers, newest first, with the duration of each stage");
    }

    @Override
    public void configure(Subparser subparser) {
        super.configure(subparser);
        subparser.addArgument("--json").action(Arguments.storeTrue()).help("print the entries as JSON");
    }

    @Override
    protected void run(Bootstrap<SentinelConfiguration> bootstrap, Namespace namespace, SentinelConfiguration c) {
        CliMain.exit(() -> {
            try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                List<JsonNode> entries = new ArrayList<>();
                List<String> names = reader.cache.documentsUnder("history/");
                for (int i = names.size() - 1; i >= 0; i--) {
                    try {
                        entries.add(Fields.parseObject(reader.cache.document(names.get(i)).orElseThrow()));
                    } catch (Exception e) {
                        System.err.println("skipping malformed history entry " + names.get(i) + ": " + e.getMessage());
                    }
                }
                if (namespace.getBoolean("json")) {
                    System.out.println(Fields.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(entries));
                    return 0;
                }
                if (entries.isEmpty()) {
                    System.out.println("No failover or switchover yet.");
                }
                for (JsonNode h : entries) {
                    System.out.println(describe(h));
                }
                return 0;
            }
        });
    }

    /** One entry in two lines: what happened, then how long each stage took. */
    public static String describe(JsonNode h) {
        StringBuilder b = new StringBuilder();
        b.append(h.path("at").asText()).append("  epoch ").append(h.path("epoch").asLong()).append("  ")
                .append(h.path("kind").asText()).append(' ').append(h.path("from").asText()).append(" -> ")
                .append(h.path("to").asText()).append('\n');
        JsonNode d = h.path("durationsMs");
        if (d.isObject()) {
            b.append(String.format("    detect->decide %d ms, decide->fenced %d ms, fenced->promoted %d ms, "
                            + "promoted->published %d ms, total %d ms%n", d.path("detectToDecide").asLong(),
                    d.path("decideToFenced").asLong(), d.path("fencedToPromoted").asLong(),
                    d.path("promotedToPublished").asLong(), d.path("total").asLong()));
        }
        b.append("    ").append(h.path("reason").asText());
        return b.toString();
    }
}
