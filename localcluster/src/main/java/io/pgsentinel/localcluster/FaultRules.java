package io.pgsentinel.localcluster;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The nft rules of the faults, each for the input chain of a receiving host: drops only at
 * the receiver, never at the sender's output (measured here: a UDP send dropped at output fails
 * at once with EPERM, which no real network does; a TCP connect still times out). Only packets
 * arriving on eth0 are considered, so a host always reaches itself.
 */
final class FaultRules {
    private FaultRules() {
    }

    /** Drops every packet from {@code addresses}. */
    static String dropFrom(Collection<String> addresses) {
        return "iifname \"eth0\" ip saddr { " + String.join(", ", addresses) + " } drop";
    }

    /**
     * Drops the packets of every connection {@code address} opens to this host (its SYN and all
     * that follows, conntrack's original direction), and lets through its answers in connections
     * this host opened: one TCP direction cut, the other working (TCP needs packets both ways, so
     * a one-way cut is by who connects).
     */
    static String dropConnectionsFrom(String address) {
        return "iifname \"eth0\" ip saddr " + address + " ct direction original drop";
    }

    /** Drops {@code percent}% (1..100) of the packets from every address except {@code spared} (the observer). */
    static String lossyFromAllBut(String spared, int percent) {
        return "iifname \"eth0\" ip saddr != " + spared + chance(percent) + " drop";
    }

    /** Drops {@code percent}% (1..100) of the packets from {@code address}. */
    static String lossyFrom(String address, int percent) {
        return "iifname \"eth0\" ip saddr " + address + chance(percent) + " drop";
    }

    /** The match of a packet with that chance; nft takes no {@code < 100} of a {@code mod 100} (0..99). */
    private static String chance(int percent) {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("percent must be in 1..100 for a rule, got " + percent);
        }
        return percent == 100 ? "" : " numgen random mod 100 < " + percent;
    }

    /**
     * Jepsen's majorities ring: the hosts in a ring, each reaching those within ring distance
     * {@code d}, the smallest with {@code 2d + 1 >= n/2 + 1}; so each host sees a majority (itself
     * included) and no two see the same one. For 5 hosts: i-1, i, i+1 (d = 1); for 4: all but the
     * opposite host; for 6 and 7: all but the 1 or 2 farthest (d = 2). Fewer than 4 hosts have no
     * such ring (for 3, distance 1 is everyone): rejected. Returns, for each host, the hosts it
     * must not reach.
     */
    static Map<String, Set<String>> ringUnreachable(List<String> ring) {
        int n = ring.size();
        if (n < 4) {
            throw new IllegalArgumentException("a majorities ring needs at least 4 hosts (each seeing a different "
                    + "majority), got " + n + ": " + ring);
        }
        if (new LinkedHashSet<>(ring).size() != n) {
            throw new IllegalArgumentException("a host appears twice in the ring " + ring);
        }
        int majority = n / 2 + 1;
        int d = 0;
        while (2 * d + 1 < majority) {
            d++;
        }
        Map<String, Set<String>> unreachable = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Set<String> far = new LinkedHashSet<>();
            for (int j = 0; j < n; j++) {
                int distance = Math.min(Math.abs(i - j), n - Math.abs(i - j));
                if (distance > d) {
                    far.add(ring.get(j));
                }
            }
            unreachable.put(ring.get(i), far);
        }
        return unreachable;
    }
}
