package io.pgsentinel.sentinel.it;

import io.pgsentinel.localcluster.PgNode;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * Client threads inserting unique ids through a DataSource (the routing one) and recording
 * which inserts were acknowledged: the zero-loss check counts those missing from the final primary.
 */
final class AckedWriters {
    private final String table;
    private final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    AckedWriters(DataSource db, String table, int count) {
        this.table = table;
        for (int w = 0; w < count; w++) {
            long base = (w + 1) * 1_000_000_000L;
            Thread t = new Thread(() -> {
                long next = base;
                while (writing.get()) {
                    try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
                        s.executeUpdate("INSERT INTO " + table + " VALUES (" + next + ")");
                        acked.add(next);
                    } catch (Exception e) {
                        // not acknowledged: it may or may not be there; only acknowledged ids are checked
                    }
                    next++;
                }
            }, "writer-" + w);
            t.start();
            threads.add(t);
        }
    }

    int acknowledged() {
        return acked.size();
    }

    void stop() throws InterruptedException {
        writing.set(false);
        for (Thread t : threads) {
            t.join();
        }
    }

    /** Acknowledged ids absent from {@code primary}'s table. */
    int lostOn(PgNode primary) {
        Set<Long> present = new HashSet<>();
        primary.queryColumn("SELECT id FROM " + table).forEach(v -> present.add(Long.parseLong(v)));
        return (int) acked.stream().filter(id -> !present.contains(id)).count();
    }
}
