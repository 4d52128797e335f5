package io.pgsentinel.shared.zk;

/**
 * Every ZooKeeper path of a cluster, in one place (../shared/DESIGN.md, "ZooKeeper layout").
 *
 * <pre>
 * root/cluster/
 *   topology        the published topology (clients watch it)
 *   history/        one sequential node per failover or switchover
 *   nodes/id        registered address and tags (persistent)
 *   members/id      the sentinel's latest report of its server (ephemeral)
 *   votes/id        the sentinel's view of every server (ephemeral)
 *   leader/         leader election
 *   fence/id        node id must not accept writes
 *   maintenance     present while automatic failover is paused
 *   switchover      a pending planned switchover
 *   decision        the leader's latest decision and its reason (added to the layout)
 *   heartbeat/id    ephemeral, rewritten every 500 ms by the sentinel of a primary (added)
 * </pre>
 */
public record ClusterPaths(String root, String cluster) {
    public static final String DEFAULT_ROOT = "/pg-sentinel";

    public ClusterPaths {
        Names.requireValidRoot(root);
        Names.requireValid("cluster name", cluster);
    }

    public String base() {
        return root + "/" + cluster;
    }

    public String topology() {
        return base() + "/topology";
    }

    public String history() {
        return base() + "/history";
    }

    /** The prefix of a new sequential history node. */
    public String historyEntryPrefix() {
        return history() + "/entry-";
    }

    public String nodes() {
        return base() + "/nodes";
    }

    public String node(String id) {
        return nodes() + "/" + Names.requireValid("node id", id);
    }

    public String members() {
        return base() + "/members";
    }

    public String member(String id) {
        return members() + "/" + Names.requireValid("node id", id);
    }

    public String votes() {
        return base() + "/votes";
    }

    public String vote(String id) {
        return votes() + "/" + Names.requireValid("node id", id);
    }

    public String leader() {
        return base() + "/leader";
    }

    public String fences() {
        return base() + "/fence";
    }

    public String fence(String id) {
        return fences() + "/" + Names.requireValid("node id", id);
    }

    public String maintenance() {
        return base() + "/maintenance";
    }

    public String switchover() {
        return base() + "/switchover";
    }

    /** Pending re-clone requests: {@code reinit/<id>}, removed by that node's sentinel once it is done. */
    public String reinits() {
        return base() + "/reinit";
    }

    public String reinit(String id) {
        return reinits() + "/" + Names.requireValid("node id", id);
    }

    /** Pending restart requests: {@code restart/<id>}, carried out and removed by that node's sentinel. */
    public String restarts() {
        return base() + "/restart";
    }

    public String restart(String id) {
        return restarts() + "/" + Names.requireValid("node id", id);
    }

    /** Pending reload requests: {@code reload/<id>}, carried out and removed by that node's sentinel. */
    public String reload(String id) {
        return base() + "/reload/" + Names.requireValid("node id", id);
    }

    /** Pending removal requests: {@code remove/<id>}, carried out (or refused) by the leader. */
    public String removals() {
        return base() + "/remove";
    }

    public String removal(String id) {
        return removals() + "/" + Names.requireValid("node id", id);
    }

    /**
     * The bootstrap claim ({@code bootstrap.method: initdb}): created once by the node that
     * creates the cluster, so that no two ever do.
     */
    public String initialize() {
        return base() + "/initialize";
    }

    public String heartbeats() {
        return base() + "/heartbeat";
    }

    /**
     * Rewritten twice a second by the sentinel whose server is a primary: the leader learns from
     * its silence that the sentinel lost ZooKeeper long enough ago to have fenced its server.
     */
    public String heartbeat(String id) {
        return heartbeats() + "/" + Names.requireValid("node id", id);
    }

    /**
     * A promotion announced by the leader before it calls pg_promote, removed when its epoch is
     * published: a successor learns from it that a server may have been promoted.
     */
    public String promoting() {
        return base() + "/promoting";
    }

    /**
     * The cluster-wide settings (failure detection, failover policy, synchronous mode, PostgreSQL
     * parameters), changed with compare-and-set on the node's version.
     */
    public String settings() {
        return base() + "/config";
    }

    /** One persistent sequential node per change of the settings: who, when, and the diff. */
    public String settingsHistory() {
        return base() + "/config-history";
    }

    public String settingsHistoryEntryPrefix() {
        return settingsHistory() + "/change-";
    }

    /** The leader's latest decision, for every sentinel's {@code GET /cluster}. */
    public String decision() {
        return base() + "/decision";
    }

    /** The last segment of {@code path}: the node id of a child of nodes/, members/, votes/, fence/. */
    public static String lastSegment(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
