package io.pgsentinel.localcluster;

import java.util.List;
import java.util.Map;

/**
 * A network fault of {@link Hosts} in force: nftables rules, in a chain of its own in each
 * namespace it touches, that drop packets at the receiving host (so a sender sees what a real
 * network loss shows: silence and a timeout, never a reset or an error of its own).
 * Faults compose: each is a separate input chain, and a packet any of them drops is dropped.
 * {@link #heal()} removes this fault only; {@link Hosts#heal()} removes all.
 */
public final class Fault {
    private final FaultTable table;
    private final int id;
    private final String description;
    private final Map<String, List<String>> rulesByHost;
    private volatile boolean active = true;

    Fault(FaultTable table, int id, String description, Map<String, List<String>> rulesByHost) {
        this.table = table;
        this.id = id;
        this.description = description;
        this.rulesByHost = Map.copyOf(rulesByHost);
    }

    int id() {
        return id;
    }

    /** The chain of this fault in each host's table. */
    String chain() {
        return "f" + id;
    }

    /** What the fault does, e.g. "cut db1 <-> db2". */
    public String description() {
        return description;
    }

    /** The nft rules of this fault's input chain, by host name. */
    public Map<String, List<String>> rulesByHost() {
        return rulesByHost;
    }

    public boolean isActive() {
        return active;
    }

    /** Removes this fault's rules; other faults stay. A healed fault heals again as a no-op. */
    public void heal() {
        table.heal(this);
    }

    /** Marks the fault healed; true if it was active. */
    boolean deactivate() {
        boolean was = active;
        active = false;
        return was;
    }

    @Override
    public String toString() {
        return "Fault[" + id + ": " + description + (active ? "" : ", healed") + "]";
    }
}
