package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.shared.client.ZooKeeperTopologyWatcher;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tries, all the time and on every server at once, to commit a write that a read-only fence does
 * not stop ({@code BEGIN; SET TRANSACTION READ WRITE; INSERT; COMMIT}), over a connection kept open
 * per server (opened again when it breaks), about every 20 ms per server. It records every commit
 * a server acknowledged, with when it was sent and acknowledged, and every topology published
 * (as this process saw it, through ZooKeeper), and finds:
 * <ul>
 *   <li>a commit acknowledged by a server that was superseded: sent after this process saw a
 *       topology naming another primary, by a server that is not the next one to be published
 *       (a promoted candidate may commit just before its publication; a republication of the same
 *       epoch, such as a change of leader or of the pause flag, is not a next primary);</li>
 *   <li>two servers whose acknowledged commits overlap in time (sent before the other's
 *       acknowledgement arrived, both ways): both accepted writes at the same time.</li>
 * </ul>
 * A frozen or cut server only slows its own thread.
 */
public final class WriteSampler implements AutoCloseable {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final long PERIOD_MILLIS = 20;

    /** One acknowledged commit: {@code node}, sent and acknowledged at (System.nanoTime). */
    private record Ack(String node, long sentNanos, long ackNanos) {
    }

    /** A topology this process saw published. */
    private record Seen(long atNanos, long epoch, String primary) {
    }

    private final List<PgNode> nodes;
    private final ZooKeeperTopologyWatcher watcher;
    private final long startNanos = System.nanoTime();
    private final List<Thread> threads = new ArrayList<>();
    private final List<Ack> acks = new CopyOnWriteArrayList<>();
    private final List<Seen> published = new CopyOnWriteArrayList<>();
    private final SentinelCluster cluster;
    private final Map<String, Long> accepted = new ConcurrentHashMap<>();
    private final AtomicLong attempts = new AtomicLong();
    private volatile boolean running = true;

    /** Samples every server of {@code cluster}, watching its topology in ZooKeeper. */
    public WriteSampler(SentinelCluster cluster) {
        this.cluster = cluster;
        this.nodes = List.copyOf(cluster.pg().nodes());
        PgNode primary = cluster.pg().node(cluster.topologyInZooKeeper() == null ? nodes.get(0).name()
                : cluster.topologyInZooKeeper().primary().id());
        primary.execute("CREATE TABLE IF NOT EXISTS sampler (node text, at timestamptz DEFAULT now())");
        this.watcher = ZooKeeperTopologyWatcher.start(cluster.zkClient(), cluster.paths());
        watcher.addListener((before, now) -> published.add(new Seen(System.nanoTime(), now.epoch(),
                now.primary().id())));
        watcher.current().ifPresent(t -> published.add(new Seen(System.nanoTime(), t.epoch(), t.primary().id())));
        for (PgNode n : nodes) {
            Thread t = new Thread(() -> sample(n), "write-sampler-" + n.name());
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
    }

    private void sample(PgNode n) {
        Connection c = null;
        while (running) {
            try {
                if (c == null) {
                    c = DriverManager.getConnection(n.jdbcUrl(CONNECT_TIMEOUT));
                    c.setAutoCommit(false);
                }
                try (Statement s = c.createStatement()) {
                    s.setQueryTimeout(2);
                    s.execute("SET TRANSACTION READ WRITE");
                    s.execute("INSERT INTO sampler (node) VALUES ('" + n.name() + "')");
                }
                long sent = System.nanoTime();
                c.commit();
                acks.add(new Ack(n.name(), sent, System.nanoTime()));
                accepted.merge(n.name(), 1L, Long::sum);
            } catch (SQLException | RuntimeException e) {
                closeQuietly(c);
                c = null;
            }
            attempts.incrementAndGet();
            try {
                Thread.sleep(PERIOD_MILLIS); // the sampling period, not a wait for a condition
            } catch (InterruptedException e) {
                break;
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // broken already
            }
        }
    }

    /** Write attempts so far, on all servers. */
    public long rounds() {
        return attempts.get();
    }

    /** How many commits each node acknowledged. */
    public Map<String, Long> accepted() {
        return Map.copyOf(accepted);
    }

    /** Every commit acknowledged by a superseded server, and every two overlapping commits on two servers. */
    public List<String> violations() {
        List<String> found = new ArrayList<>();
        List<Seen> pubs = new ArrayList<>(published);
        pubs.sort(Comparator.comparingLong(Seen::atNanos));
        List<Ack> all = new ArrayList<>(acks);
        all.sort(Comparator.comparingLong(Ack::sentNanos));
        for (Ack a : all) {
            Seen before = null;
            Seen after = null;
            for (Seen p : pubs) {
                if (p.atNanos() <= a.sentNanos()) {
                    before = p;
                } else if (after == null && (before == null || p.epoch() > before.epoch())) {
                    after = p; // the next change of primary: a republication of the same epoch supersedes no one
                }
            }
            boolean nextPrimary = after != null && after.primary().equals(a.node());
            if (before != null && !before.primary().equals(a.node()) && !nextPrimary) {
                found.add(String.format("%s acknowledged a commit sent at +%.3f s, after %s was published as the "
                        + "primary (epoch %d, seen at +%.3f s)", a.node(), seconds(a.sentNanos()), before.primary(),
                        before.epoch(), seconds(before.atNanos())));
            }
        }
        Map<String, Ack> latest = new HashMap<>();
        for (Ack a : all) {
            for (Ack other : latest.values()) {
                if (!other.node().equals(a.node()) && other.ackNanos() > a.sentNanos()) {
                    found.add(String.format("%s and %s acknowledged overlapping commits (+%.3f..%.3f s and +%.3f..%.3f s)",
                            other.node(), a.node(), seconds(other.sentNanos()), seconds(other.ackNanos()),
                            seconds(a.sentNanos()), seconds(a.ackNanos())));
                }
            }
            latest.put(a.node(), a);
        }
        return found;
    }

    private double seconds(long nanos) {
        return (nanos - startNanos) / 1e9;
    }

    /** No commit acknowledged by a superseded server, never two servers acknowledging at once. */
    public void assertNeverTwoWritable() {
        Await.until("at least 10 write attempts", Duration.ofSeconds(30), () -> attempts.get() > 10);
        // judged against every publication up to now: a test that just read a new epoch from
        // ZooKeeper itself may ask before this sampler's own watch has delivered it
        Topology now = null;
        try {
            now = running ? cluster.topologyInZooKeeper() : null; // a closed sampler's watch delivers nothing more
        } catch (RuntimeException e) {
            // ZooKeeper cannot be read from here now (a fault in place): judged by what was seen
        }
        if (now != null) {
            long epoch = now.epoch();
            Await.until("the sampler to see epoch " + epoch, Duration.ofSeconds(30),
                    () -> published.stream().anyMatch(p -> p.epoch() >= epoch));
        }
        assertThat(violations()).as("commits acknowledged by two servers at once, or by a superseded primary")
                .isEmpty();
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        watcher.close();
    }
}
