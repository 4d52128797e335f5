package io.pgsentinel.sentinel.zk;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgsentinel.sentinel.model.ModelCodec;
import io.pgsentinel.shared.json.Fields;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * What operators ask for, written to ZooKeeper by the HTTP API or the CLI: the maintenance flag
 * and a planned switchover. The leader carries them out; nothing here touches a server.
 */
public final class OperatorRequests {
    private final ZkSession session;
    private final Duration timeout;

    public OperatorRequests(ZkSession session, Duration timeout) {
        this.session = session;
        this.timeout = timeout;
    }

    /** Creates or deletes the maintenance node; returns whether the cluster is now paused. */
    public boolean setPaused(boolean paused, String by) throws Exception {
        String path = session.paths().maintenance();
        if (paused) {
            ObjectNode doc = Fields.mapper().createObjectNode();
            doc.put("by", by);
            doc.put("at", Instant.now().toString());
            CuratorEvent e = session.await(cb -> session.client().create().withMode(CreateMode.PERSISTENT)
                    .inBackground(cb).forPath(path, ModelCodec.encode(doc)), timeout);
            check(e, KeeperException.Code.NODEEXISTS);
        } else {
            CuratorEvent e = session.await(cb -> session.client().delete().inBackground(cb).forPath(path), timeout);
            check(e, KeeperException.Code.NONODE);
        }
        return paused;
    }

    /** The outcome of a switchover request. */
    public record Requested(boolean created, String id) {
    }

    /** Writes a switchover request; {@code created} is false when one is already pending. */
    public Requested requestSwitchover(String candidate, String by) throws Exception {
        String id = UUID.randomUUID().toString();
        ObjectNode doc = Fields.mapper().createObjectNode();
        doc.put("id", id);
        if (candidate == null) {
            doc.putNull("candidate");
        } else {
            doc.put("candidate", candidate);
        }
        doc.put("state", "requested");
        doc.put("by", by);
        doc.put("requestedAt", Instant.now().toString());
        CuratorEvent e = session.await(cb -> session.client().create().withMode(CreateMode.PERSISTENT)
                .inBackground(cb).forPath(session.paths().switchover(), ModelCodec.encode(doc)), timeout);
        if (e.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) {
            return new Requested(false, "");
        }
        check(e, KeeperException.Code.OK);
        return new Requested(true, id);
    }

    /** Writes a re-clone request for {@code node}; {@code created} is false when one is already pending. */
    public Requested requestReinit(String node, String by) throws Exception {
        return requestFor(session.paths().reinit(node), node, by);
    }

    /** Writes a removal request for {@code node}; {@code created} is false when one is already pending. */
    public Requested requestRemoval(String node, String by) throws Exception {
        return requestFor(session.paths().removal(node), node, by);
    }

    /** Writes a restart request for {@code node}; {@code created} is false when one is already pending. */
    public Requested requestRestart(String node, String by) throws Exception {
        return requestFor(session.paths().restart(node), node, by);
    }

    /** Writes a reload request for {@code node}; {@code created} is false when one is already pending. */
    public Requested requestReload(String node, String by) throws Exception {
        return requestFor(session.paths().reload(node), node, by);
    }

    private Requested requestFor(String path, String node, String by) throws Exception {
        String id = UUID.randomUUID().toString();
        ObjectNode doc = Fields.mapper().createObjectNode();
        doc.put("id", id);
        doc.put("node", node);
        doc.put("by", by);
        doc.put("requestedAt", Instant.now().toString());
        CuratorEvent e = session.await(cb -> session.client().create().creatingParentContainersIfNeeded()
                .withMode(CreateMode.PERSISTENT).inBackground(cb).forPath(path, ModelCodec.encode(doc)), timeout);
        if (e.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) {
            return new Requested(false, "");
        }
        check(e, KeeperException.Code.OK);
        return new Requested(true, id);
    }

    private static void check(CuratorEvent e, KeeperException.Code alsoFine) throws KeeperException {
        int code = e.getResultCode();
        if (code != KeeperException.Code.OK.intValue() && code != alsoFine.intValue()) {
            throw KeeperException.create(KeeperException.Code.get(code), e.getPath());
        }
    }
}
