package io.pgsentinel.shared.topology;

import io.pgsentinel.shared.zk.Names;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The published topology of a cluster (../shared/DESIGN.md, "Topology document"): who is the
 * primary, who are the replicas and how far behind, which sentinel leads. Immutable.
 *
 * @param cluster   the cluster name
 * @param epoch     +1 on every change of primary, never decreasing; the first is 1
 * @param primary   the writable server
 * @param replicas  every other registered server, in id order
 * @param leader    the sentinel that leads, or null when none does
 * @param paused    true while automatic failover is paused (maintenance)
 * @param updatedAt when this document was written
 * @param synchronous the synchronous replication set, or null in asynchronous mode (added field)
 */
public record Topology(String cluster, long epoch, Primary primary, List<Replica> replicas, String leader,
                       boolean paused, Instant updatedAt, Synchronous synchronous) {
    /** The only document format this code reads and writes. */
    public static final int FORMAT_VERSION = 1;

    /** An asynchronous cluster's topology. */
    public Topology(String cluster, long epoch, Primary primary, List<Replica> replicas, String leader, boolean paused,
                    Instant updatedAt) {
        this(cluster, epoch, primary, replicas, leader, paused, updatedAt, null);
    }

    /**
     * Synchronous quorum replication: the primary acknowledges a commit once {@code count} of
     * {@code standbys} have it ({@code synchronous_standby_names = 'ANY count (standbys)'}). The
     * published set always contains the primary's list (a standby is published before it is
     * added there, and removed there before it is unpublished), so a failover that hears from
     * {@code standbys.size() - count + 1} of them finds every acknowledged commit on the most
     * advanced one.
     *
     * @param state       {@code active}, or {@code relaxed} when too few standbys were available and
     *                    the primary was allowed to acknowledge alone (replication.synchronousFallback)
     * @param minPosition while not null ("0/5000000"), the primary acknowledged commits up to this
     *                    WAL position that fewer than {@code count} of the standbys may hold yet (a
     *                    new primary right after a failover, a set that just became active): a
     *                    failover candidate must also hold this position
     */
    public record Synchronous(int count, List<String> standbys, String state, String minPosition) {
        public Synchronous(int count, List<String> standbys, String state) {
            this(count, standbys, state, null);
        }

        public Synchronous {
            if (minPosition != null && !minPosition.matches("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}")) {
                throw new IllegalArgumentException("synchronous.minPosition must be a WAL position like 0/5000000, got '"
                        + minPosition + "'");
            }
            standbys = List.copyOf(standbys);
            if (count < 1) {
                throw new IllegalArgumentException("synchronous.count must be at least 1, got " + count);
            }
            if (!state.equals("active") && !state.equals("relaxed")) {
                throw new IllegalArgumentException("synchronous.state must be active or relaxed, got '" + state + "'");
            }
            standbys.forEach(id -> Names.requireValid("synchronous standby", id));
        }

        public boolean active() {
            return state.equals("active");
        }
    }

    public Topology {
        Names.requireValid("cluster", cluster);
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be at least 1, got " + epoch);
        }
        Objects.requireNonNull(primary, "primary");
        replicas = List.copyOf(replicas);
        Objects.requireNonNull(updatedAt, "updatedAt");
        Set<String> ids = new HashSet<>();
        ids.add(primary.id());
        for (Replica r : replicas) {
            if (!ids.add(r.id())) {
                throw new IllegalArgumentException("node id " + r.id() + " appears twice");
            }
        }
        if (leader != null) {
            Names.requireValid("leader", leader);
        }
    }

    /** The writable server: where writes go. */
    public record Primary(String id, String host, int port, long timeline) {
        public Primary {
            Names.requireValid("primary id", id);
            requireHost(host);
            requirePort(port);
            if (timeline < 1) {
                throw new IllegalArgumentException("timeline must be at least 1, got " + timeline);
            }
        }
    }

    /**
     * A replica as clients see it.
     *
     * @param lagBytes      how many bytes of WAL it has not yet replayed, or null when unknown (down)
     * @param noLoadBalance tagged {@code noloadbalance}: clients route no reads to it
     * @param upstream      the replica it streams from (cascading, tag {@code replicatefrom}), or null
     *                      when it streams from the primary (added field)
     */
    public record Replica(String id, String host, int port, ReplicaState state, Long lagBytes, boolean noLoadBalance,
                          String upstream) {
        public Replica(String id, String host, int port, ReplicaState state, Long lagBytes) {
            this(id, host, port, state, lagBytes, false, null);
        }

        public Replica(String id, String host, int port, ReplicaState state, Long lagBytes, boolean noLoadBalance) {
            this(id, host, port, state, lagBytes, noLoadBalance, null);
        }

        /** The same replica without its lag figure. */
        public Replica withoutLag() {
            return new Replica(id, host, port, state, null, noLoadBalance, upstream);
        }

        public Replica {
            Names.requireValid("replica id", id);
            requireHost(host);
            requirePort(port);
            Objects.requireNonNull(state, "state");
            if (lagBytes != null && lagBytes < 0) {
                throw new IllegalArgumentException("lagBytes must not be negative, got " + lagBytes);
            }
            if (upstream != null) {
                Names.requireValid("upstream", upstream);
            }
        }
    }

    public Optional<Replica> replica(String id) {
        return replicas.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** The same document with another leader and time stamp (republished on a change of leader). */
    public Topology withLeader(String newLeader, Instant at) {
        return new Topology(cluster, epoch, primary, replicas, newLeader, paused, at, synchronous);
    }

    public Topology withSynchronous(Synchronous s, Instant at) {
        return new Topology(cluster, epoch, primary, replicas, leader, paused, at, s);
    }

    /** Whether {@code other} says the same thing, time stamp aside. */
    public boolean sameContentAs(Topology other) {
        return other != null && cluster.equals(other.cluster) && epoch == other.epoch
                && primary.equals(other.primary) && replicas.equals(other.replicas)
                && Objects.equals(leader, other.leader) && paused == other.paused
                && Objects.equals(synchronous, other.synchronous);
    }

    static void requireHost(String host) {
        if (host == null || host.isBlank() || host.length() > 255 || host.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("host must be a host name or address without spaces, got '" + host + "'");
        }
    }

    static void requirePort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
        }
    }
}
