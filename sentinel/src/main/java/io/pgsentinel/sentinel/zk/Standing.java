package io.pgsentinel.sentinel.zk;

import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import java.time.Duration;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.zookeeper.KeeperException;

/**
 * Asks ZooKeeper itself, not the cache, whether this node is the published primary and not
 * fenced: after a freeze, a self-fence or a crash, before a server is started as a primary.
 * A {@code sync} first makes the server we talk to catch up with the leader of the ensemble.
 */
public final class Standing {
    private final ZkSession session;
    private final String id;

    public Standing(ZkSession session, String id) {
        this.session = session;
        this.id = id;
    }

    /** What ZooKeeper says, or why it could not say. */
    public record Answer(boolean confirmed, String reason) {
    }

    public Answer check(Duration timeout) {
        try {
            var paths = session.paths();
            session.await(cb -> session.client().sync().inBackground(cb).forPath(paths.topology()), timeout);
            CuratorEvent topology = session.await(cb -> session.client().getData().inBackground(cb)
                    .forPath(paths.topology()), timeout);
            if (topology.getResultCode() != KeeperException.Code.OK.intValue()) {
                return new Answer(false, "no topology in ZooKeeper");
            }
            Topology t = TopologyCodec.decode(topology.getData());
            if (!t.primary().id().equals(id)) {
                return new Answer(false, t.primary().id() + " is the published primary (epoch " + t.epoch() + ")");
            }
            CuratorEvent fence = session.await(cb -> session.client().checkExists().inBackground(cb)
                    .forPath(paths.fence(id)), timeout);
            if (fence.getStat() != null) {
                return new Answer(false, "fence/" + id + " exists");
            }
            return new Answer(true, "ZooKeeper confirms " + id + " is the published primary (epoch " + t.epoch()
                    + ") and not fenced");
        } catch (DocumentException e) {
            return new Answer(false, "the topology node is malformed: " + e.getMessage());
        } catch (Exception e) {
            return new Answer(false, "ZooKeeper did not answer: " + e.getMessage());
        }
    }
}
