package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.testkit.PgNode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Every ~50 ms, asks every server at once whether it accepts a write (an INSERT that commits),
 * and records each round in which two servers did: a split brain. A frozen server simply does
 * not answer within the round.
 */
public final class WriteSampler implements AutoCloseable {
    private static final Duration ROUND_TIMEOUT = Duration.ofMillis(400);

    private final List<PgNode> nodes;
    private final ExecutorService pool;
    private final Thread thread;
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final Map<String, Long> accepted = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private volatile long rounds;

    public WriteSampler(List<PgNode> nodes) {
        this.nodes = List.copyOf(nodes);
        this.pool = Executors.newFixedThreadPool(nodes.size() * 2, r -> {
            Thread t = new Thread(r, "write-sampler");
            t.setDaemon(true);
            return t;
        });
        nodes.get(0).execute("CREATE TABLE IF NOT EXISTS sampler (node text, at timestamptz DEFAULT now())");
        this.thread = new Thread(this::run, "write-sampler-rounds");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            long start = System.nanoTime();
            List<Future<Boolean>> results = new ArrayList<>();
            for (PgNode n : nodes) {
                results.add(pool.submit(() -> acceptsWrite(n)));
            }
            List<String> writable = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                try {
                    long left = ROUND_TIMEOUT.toNanos() - (System.nanoTime() - start);
                    if (results.get(i).get(Math.max(1, left), TimeUnit.NANOSECONDS)) {
                        writable.add(nodes.get(i).name());
                        accepted.merge(nodes.get(i).name(), 1L, Long::sum);
                    }
                } catch (Exception e) {
                    results.get(i).cancel(true);
                }
            }
            if (writable.size() > 1) {
                violations.add("round " + rounds + ": " + writable + " accepted writes at the same time");
            }
            rounds++;
            long elapsed = (System.nanoTime() - start) / 1_000_000;
            if (elapsed < 50) {
                try {
                    Thread.sleep(50 - elapsed); // the sampling period
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private static boolean acceptsWrite(PgNode n) {
        try (Connection c = DriverManager.getConnection(n.jdbcUrl(Duration.ofSeconds(1)));
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO sampler (node) VALUES ('" + n.name() + "')");
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    public long rounds() {
        return rounds;
    }

    /** How many rounds each node accepted a write in. */
    public Map<String, Long> accepted() {
        return Map.copyOf(accepted);
    }

    public void assertNeverTwoWritable() {
        io.pgsentinel.testkit.Await.until("at least 10 sampling rounds", Duration.ofSeconds(30), () -> rounds > 10);
        assertThat(violations).as("rounds in which two servers accepted writes").isEmpty();
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.shutdownNow();
    }
}
