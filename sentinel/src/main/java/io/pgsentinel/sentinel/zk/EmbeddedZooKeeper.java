package io.pgsentinel.sentinel.zk;

import io.dropwizard.lifecycle.Managed;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single in-process ZooKeeper server ({@code zookeeper.embedded: true}): for the demo and
 * development only. One server is no ensemble: losing it loses coordination.
 */
public final class EmbeddedZooKeeper implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final int TICK_MILLIS = 2000;

    private final String host;
    private final int port;
    private final Path dataDirectory;
    private ServerCnxnFactory factory;

    /**
     * @param connect       the configured connect string: the server listens on its first address
     * @param dataDirectory where to keep data; a temporary directory when empty
     */
    public EmbeddedZooKeeper(String connect, String dataDirectory) throws IOException {
        String first = connect.split(",")[0].replaceAll("/.*$", "");
        this.host = first.substring(0, first.lastIndexOf(':'));
        this.port = Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
        this.dataDirectory = dataDirectory.isEmpty() ? Files.createTempDirectory("pg-sentinel-zk") : Path.of(dataDirectory);
    }

    @Override
    public void start() throws IOException, InterruptedException {
        LOG.warn("starting an EMBEDDED single-server ZooKeeper on {}:{} (data in {}): for demos and development only, "
                + "never in production", host, port, dataDirectory);
        File dir = dataDirectory.toFile();
        ZooKeeperServer server = new ZooKeeperServer(dir, dir, TICK_MILLIS);
        factory = ServerCnxnFactory.createFactory(new InetSocketAddress(host, port), 200);
        factory.startup(server);
    }

    @Override
    public void stop() {
        if (factory != null) {
            factory.shutdown();
        }
    }
}
