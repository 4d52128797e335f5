package io.pgsentinel.testkit;

import io.pgsentinel.localcluster.Endpoint;
import io.pgsentinel.localcluster.Host;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.Ports;
import io.pgsentinel.localcluster.ZkEnsemble;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N quorum servers in the test JVM (Curator's {@link TestingCluster}), on free loopback ports,
 * with data in the {@link KitRun}: the tests' {@link ZkEnsemble}, quick to start (about 0.4 s).
 * Test code: Curator's test servers stay out of the product.
 */
public final class InJvmZkEnsemble extends ZkEnsemble {
    private static final Logger LOG = LoggerFactory.getLogger(InJvmZkEnsemble.class);

    private final TestingCluster cluster;
    private final List<InstanceSpec> specs;
    private final Set<Path> tmpFilesBefore;
    private boolean closed;

    private InJvmZkEnsemble(TestingCluster cluster, List<InstanceSpec> specs, Set<Path> tmpFilesBefore) {
        this.cluster = cluster;
        this.specs = specs;
        this.tmpFilesBefore = tmpFilesBefore;
    }

    /** Starts {@code servers} servers in this JVM and waits until the ensemble serves a write. */
    public static ZkEnsemble start(int servers) {
        return start(servers, TICK_MILLIS);
    }

    public static ZkEnsemble start(int servers, int tickMillis) {
        KitRun run = KitRun.get();
        Path dir = run.newDirectory("zk");
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 1; i <= servers; i++) {
            File data = dir.resolve("server" + i).toFile();
            if (!data.mkdirs()) {
                throw new IllegalStateException("cannot create " + data);
            }
            specs.add(new InstanceSpec(data, Ports.free(), Ports.free(), Ports.free(), true, i, tickMillis, -1,
                    null, Ports.LOOPBACK));
        }
        Set<Path> before = zookeeperTmpFiles();
        TestingCluster cluster = new TestingCluster(specs);
        InJvmZkEnsemble ensemble = new InJvmZkEnsemble(cluster, specs, before);
        run.register(ensemble);
        try {
            cluster.start();
            ensemble.awaitWritable(Duration.ofSeconds(30));
            return ensemble;
        } catch (Exception e) {
            ensemble.close();
            throw new IllegalStateException("ZooKeeper ensemble did not start", e);
        }
    }

    @Override
    public String connectString(int index) {
        return specs.get(index).getConnectString();
    }

    @Override
    public Endpoint reach(int index) {
        return new Endpoint(Ports.LOOPBACK, clientPort(index));
    }

    @Override
    public int size() {
        return specs.size();
    }

    @Override
    public int clientPort(int index) {
        return specs.get(index).getPort();
    }

    @Override
    public Host host(int index) {
        specs.get(index); // an index out of range fails here, as on hosts
        return Host.LOOPBACK;
    }

    @Override
    public synchronized void kill(int index) {
        try {
            if (!cluster.killServer(specs.get(index))) {
                throw new IllegalStateException("server " + index + " was not running");
            }
            down.add(index);
        } catch (Exception e) {
            throw new IllegalStateException("cannot kill ZooKeeper server " + index, e);
        }
    }

    @Override
    public synchronized void restart(int index) {
        try {
            if (!cluster.restartServer(specs.get(index))) {
                throw new IllegalStateException("server " + index + " could not be restarted");
            }
            down.remove(index);
        } catch (Exception e) {
            throw new IllegalStateException("cannot restart ZooKeeper server " + index, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            cluster.close();
        } catch (IOException e) {
            LOG.warn("kit: closing the ZooKeeper ensemble: {}", e.toString());
        }
        // TestingCluster leaves its configuration files in the temp directory
        for (Path leftover : zookeeperTmpFiles()) {
            if (!tmpFilesBefore.contains(leftover)) {
                try {
                    Files.deleteIfExists(leftover);
                } catch (IOException ignored) {
                    // another JVM's file, or already gone
                }
            }
        }
        KitRun.get().unregister(this);
    }

    private static Set<Path> zookeeperTmpFiles() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> files = Files.list(tmp)) {
            return files.filter(p -> p.getFileName().toString().startsWith("zookeeper.configuration"))
                    .collect(Collectors.toSet());
        } catch (IOException e) {
            return Set.of();
        }
    }
}
