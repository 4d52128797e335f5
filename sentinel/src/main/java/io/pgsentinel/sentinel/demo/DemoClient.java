package io.pgsentinel.sentinel.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An application of the demo: writes a row to one server every 20 ms, on a connection it opens
 * again when it breaks, and remembers when each write was acknowledged (monotonic).
 */
public final class DemoClient {
    private final String jdbcUrl;
    private final ConcurrentLinkedQueue<Long> acks = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    public DemoClient(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
        this.thread = new Thread(this::write, "demo-client");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void write() {
        while (running) {
            try (Connection c = DriverManager.getConnection(jdbcUrl); Statement s = c.createStatement()) {
                while (running) {
                    s.execute("INSERT INTO demo_writes DEFAULT VALUES");
                    acks.add(System.nanoTime());
                    Thread.sleep(20); // the application's pace
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                try {
                    Thread.sleep(100); // before connecting again
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    /** When the last write was acknowledged (System.nanoTime), 0 before the first. */
    public long lastAck() {
        return acks.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** Writes acknowledged after {@code nanos}. */
    public long ackedSince(long nanos) {
        return acks.stream().filter(a -> a > nanos).count();
    }

    public void stop() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(5000);
    }
}
