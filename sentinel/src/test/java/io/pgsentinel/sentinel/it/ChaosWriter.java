package io.pgsentinel.sentinel.it;

import io.pgsentinel.shared.client.RoutingDataSource;
import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

/**
 * A client application on a client host: inserts unique ids through the routing DataSource
 * (which follows the topology in ZooKeeper), and writes one line per acknowledged commit:
 * {@code id epoch server sentNanos ackNanos}, where {@code epoch} is the topology it believed and
 * {@code server} the address of the server that acknowledged (asked of the server itself).
 * System.nanoTime is CLOCK_MONOTONIC here, the same clock in every process of the machine, so
 * the test compares these times with its own.
 *
 * <p>{@code ChaosWriter <zkConnect> <root> <cluster> <table> <firstId> <threads> <ackFile>}; runs
 * until killed (SIGTERM flushes the file).
 */
public final class ChaosWriter {
    private ChaosWriter() {
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String root = args[1];
        String cluster = args[2];
        String table = args[3];
        long firstId = Long.parseLong(args[4]);
        int threads = Integer.parseInt(args[5]);
        Path acks = Path.of(args[6]);
        ZooKeeperTopologyWatcher watcher = ZooKeeperTopologyWatcher.connect(connect,
                new io.pgsentinel.shared.zk.ClusterPaths(root, cluster), Duration.ofSeconds(4));
        RoutingDataSource db = RoutingDataSource.builder(watcher).user("postgres")
                .poolCustomizer(h -> {
                    h.setConnectionTimeout(1000);
                    h.setValidationTimeout(500);
                })
                .connectionProperty("socketTimeout", "3").connectionProperty("connectTimeout", "1").build();
        BufferedWriter out = Files.newBufferedWriter(acks, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (out) {
                try {
                    out.flush();
                } catch (java.io.IOException ignored) {
                    // the file is what it is
                }
            }
        }));
        for (int w = 0; w < threads; w++) {
            long base = firstId + w * 100_000_000L;
            Thread t = new Thread(() -> write(db, table, base, out), "writer-" + w);
            t.start();
        }
        Thread flusher = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(200); // a flush period, so that the file is recent when the test reads it
                    synchronized (out) {
                        out.flush();
                    }
                } catch (Exception e) {
                    return;
                }
            }
        }, "flusher");
        flusher.setDaemon(true);
        flusher.start();
    }

    private static void write(RoutingDataSource db, String table, long base, BufferedWriter out) {
        long next = base;
        while (true) {
            long id = next++;
            long epoch = db.topology().map(Topology::epoch).orElse(0L);
            long sent = System.nanoTime();
            try (Connection c = db.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("INSERT INTO " + table + " (id) VALUES (" + id + ") "
                         + "RETURNING host(inet_server_addr())")) {
                rs.next();
                String server = rs.getString(1);
                long acked = System.nanoTime();
                synchronized (out) {
                    out.write(id + " " + epoch + " " + server + " " + sent + " " + acked + "\n");
                }
            } catch (Exception e) {
                // not acknowledged: it may or may not be there; only acknowledged ids are checked
            }
        }
    }
}
