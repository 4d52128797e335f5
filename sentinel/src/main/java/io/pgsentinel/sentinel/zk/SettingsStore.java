package io.pgsentinel.sentinel.zk;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.model.ModelCodec;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * The cluster's settings node ({@code config}) and its history ({@code config-history/}): read
 * directly from ZooKeeper, created once from the first sentinel's YAML, and changed only with
 * compare-and-set on the version that was read, in one transaction with its history entry. Two
 * operators editing at once: one wins, the other is told.
 */
public final class SettingsStore {
    /** The settings with the version of the node they were read from. */
    public record Versioned(ClusterSettings settings, int version) {
    }

    /** The outcome of a change. */
    public enum Outcome {
        /** Written, with its history entry. */
        OK,
        /** The node changed since it was read: nothing written. */
        CONFLICT,
        /** There is no settings node yet. */
        ABSENT
    }

    private final ZkSession session;
    private final Duration timeout;

    public SettingsStore(ZkSession session, Duration timeout) {
        this.session = session;
        this.timeout = timeout;
    }

    /** The settings as ZooKeeper holds them now; empty when the cluster has none yet. */
    public Optional<Versioned> read() throws Exception {
        CuratorEvent e = session.await(cb -> session.client().getData().inBackground(cb)
                .forPath(session.paths().settings()), timeout);
        if (e.getResultCode() == KeeperException.Code.NONODE.intValue()) {
            return Optional.empty();
        }
        check(e);
        try {
            return Optional.of(new Versioned(ClusterSettings.decode(e.getData()), e.getStat().getVersion()));
        } catch (DocumentException bad) {
            throw new DocumentException("config", "the cluster's settings node (version " + e.getStat().getVersion()
                    + ") is malformed: " + bad.getMessage());
        }
    }

    /** Creates the settings node from {@code seed} unless it exists; true when this call created it. */
    public boolean createIfAbsent(ClusterSettings seed, String by) throws Exception {
        CuratorFramework c = session.client();
        List<ClusterSettings.Change> changes = ClusterSettingsDiff.fromNothing(seed);
        CuratorEvent e = session.await(cb -> c.transaction().inBackground(cb).forOperations(
                c.transactionOp().create().withMode(CreateMode.PERSISTENT).forPath(session.paths().settings(),
                        seed.encode()),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                        .forPath(session.paths().settingsHistoryEntryPrefix(), entry(0, by, "created", changes))),
                timeout);
        if (e.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) {
            return false;
        }
        check(e);
        return true;
    }

    /**
     * Replaces the settings if the node still has {@code version}, and records the change;
     * {@code next} must already be checked against the cluster.
     */
    public Outcome update(ClusterSettings before, ClusterSettings next, int version, String by) throws Exception {
        CuratorFramework c = session.client();
        List<ClusterSettings.Change> changes = before.changesTo(next);
        CuratorEvent e = session.await(cb -> c.transaction().inBackground(cb).forOperations(
                c.transactionOp().setData().withVersion(version).forPath(session.paths().settings(), next.encode()),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL)
                        .forPath(session.paths().settingsHistoryEntryPrefix(), entry(version + 1, by, "changed", changes))),
                timeout);
        int code = e.getResultCode();
        if (code == KeeperException.Code.BADVERSION.intValue()) {
            return Outcome.CONFLICT;
        }
        if (code == KeeperException.Code.NONODE.intValue()) {
            return Outcome.ABSENT;
        }
        check(e);
        return Outcome.OK;
    }

    private static byte[] entry(int version, String by, String what, List<ClusterSettings.Change> changes) {
        ObjectNode doc = Fields.mapper().createObjectNode();
        doc.put("version", version);
        doc.put("what", what);
        doc.put("by", by);
        doc.put("at", Instant.now().toString());
        ArrayNode list = doc.putArray("changes");
        for (ClusterSettings.Change ch : changes) {
            ObjectNode o = list.addObject();
            o.put("key", ch.key());
            o.put("from", ch.from());
            o.put("to", ch.to());
        }
        return ModelCodec.encode(doc);
    }

    private static void check(CuratorEvent e) throws KeeperException {
        if (e.getResultCode() != KeeperException.Code.OK.intValue()) {
            throw KeeperException.create(KeeperException.Code.get(e.getResultCode()), e.getPath());
        }
    }

    /** The diff of a new cluster's settings: every key, from nothing. */
    private static final class ClusterSettingsDiff {
        static List<ClusterSettings.Change> fromNothing(ClusterSettings s) {
            return s.flat().entrySet().stream().map(en -> new ClusterSettings.Change(en.getKey(), null, en.getValue()))
                    .toList();
        }
    }
}
