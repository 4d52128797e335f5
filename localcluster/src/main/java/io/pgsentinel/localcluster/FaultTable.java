package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The faults of one {@link Hosts} run in force: an nft table named after the run in each host
 * namespace, and in it one input chain per fault, so that faults compose and heal one by one.
 * Each change is an {@code nft -f} script (one transaction per namespace), kept in the run's
 * directory for whoever debugs a test.
 */
final class FaultTable {
    private static final Logger LOG = LoggerFactory.getLogger(FaultTable.class);

    private final String table;
    private final Path directory;
    /** Host name to namespace name. */
    private final Function<String, String> namespaceOf;
    private final List<String> hostNames;
    private final List<Fault> faults = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    private boolean closed;

    FaultTable(String table, Path directory, List<String> hostNames, Function<String, String> namespaceOf) {
        this.table = table;
        this.directory = directory;
        this.hostNames = List.copyOf(hostNames);
        this.namespaceOf = namespaceOf;
    }

    /**
     * Makes conntrack follow every connection of every host from the start. A namespace tracks
     * connections only once a rule needs it; a connection opened before that is picked up in the
     * middle, and its "original" direction is then that of whichever packet came first, so a
     * one-way cut would let an older connection through, or cut it the wrong way. A table of its
     * own, kept while faults come and go.
     */
    synchronized void trackConnections() {
        for (String host : hostNames) {
            nft(host, "track", "table inet " + table + "_track {\n"
                    + "  chain pre { type filter hook prerouting priority -300; policy accept; ct state new counter; }\n"
                    + "  chain out { type filter hook output priority -300; policy accept; ct state new counter; }\n"
                    + "}\n");
        }
    }

    /** Adds the chain of a new fault, with {@code rules} (by host) in it; all or nothing. */
    synchronized Fault apply(String description, Map<String, List<String>> rules) {
        ensureOpen();
        Fault fault = new Fault(this, ids.incrementAndGet(), description, rules);
        List<String> applied = new ArrayList<>();
        try {
            for (Map.Entry<String, List<String>> e : rules.entrySet()) {
                StringBuilder text = new StringBuilder("table inet ").append(table).append(" {\n")
                        .append("  chain ").append(fault.chain()).append(" {\n")
                        .append("    type filter hook input priority 0; policy accept;\n");
                e.getValue().forEach(rule -> text.append("    ").append(rule).append('\n'));
                text.append("  }\n}\n");
                nft(e.getKey(), "fault-" + fault.id(), text.toString());
                applied.add(e.getKey());
            }
        } catch (RuntimeException e) {
            applied.forEach(host -> nft(host, "undo-" + fault.id(), deleteChain(fault)));
            throw e;
        }
        faults.add(fault);
        LOG.info("kit: fault {}", fault);
        return fault;
    }

    synchronized void heal(Fault fault) {
        if (closed || !fault.deactivate()) {
            return;
        }
        fault.rulesByHost().keySet().forEach(host -> nft(host, "heal-" + fault.id(), deleteChain(fault)));
        faults.remove(fault);
    }

    /** Deletes the run's table in every host. */
    synchronized void healAll() {
        ensureOpen();
        for (String host : hostNames) {
            // declaring the table first makes the delete succeed when there is none
            nft(host, "heal", "table inet " + table + " {}\ndelete table inet " + table + "\n");
        }
        faults.forEach(Fault::deactivate);
        faults.clear();
    }

    synchronized List<Fault> faults() {
        return List.copyOf(faults);
    }

    /** Forgets the faults: their namespaces are being deleted, with the tables. */
    synchronized void close() {
        closed = true;
        faults.forEach(Fault::deactivate);
        faults.clear();
    }

    private String deleteChain(Fault fault) {
        return "delete chain inet " + table + " " + fault.chain() + "\n";
    }

    private void nft(String host, String name, String script) {
        Path file = directory.resolve(name + "-" + host + ".nft");
        try {
            Files.writeString(file, script, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Netns.nft(namespaceOf.apply(host), file);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the hosts of table " + table + " are closed");
        }
    }
}
