package io.pgsentinel.localcluster;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/** A throwaway raw ZooKeeper connection that answers "can I write now?" within a bound. */
final class ZooKeeperProbe implements AutoCloseable {
    private final ZooKeeper zk;
    private final CountDownLatch connected = new CountDownLatch(1);

    ZooKeeperProbe(String connectString) throws IOException {
        Watcher watcher = event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        };
        this.zk = new ZooKeeper(connectString, 4000, watcher);
    }

    boolean canWrite(Duration timeout) throws InterruptedException {
        if (!connected.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return false;
        }
        try {
            String path = zk.create("/kit-probe-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
            zk.delete(path, -1);
            return true;
        } catch (KeeperException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        zk.close();
    }
}
