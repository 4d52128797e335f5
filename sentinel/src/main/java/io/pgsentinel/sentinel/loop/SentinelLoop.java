package io.pgsentinel.sentinel.loop;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.Leadership;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cycle, every {@code checkInterval} on one thread: observe (probe, report, vote), then,
 * on the leader only, decide and publish. A cycle that throws is logged and the next one runs.
 */
public final class SentinelLoop implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(SentinelLoop.class);

    private final Observer observer;
    private final LeaderDuties leader;
    private final Leadership leadership;
    private final ClusterCache cache;
    private final Duration interval;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pg-sentinel-cycle");
        t.setDaemon(true);
        return t;
    });
    private volatile long cycles;

    public SentinelLoop(Observer observer, LeaderDuties leader, Leadership leadership, ClusterCache cache,
                        Duration interval) {
        this.observer = observer;
        this.leader = leader;
        this.leadership = leadership;
        this.cache = cache;
        this.interval = interval;
    }

    @Override
    public void start() {
        executor.scheduleWithFixedDelay(this::cycle, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
    }

    public long cycles() {
        return cycles;
    }

    private void cycle() {
        try {
            observer.cycle("ok");
            Leadership.Term term = leadership.current();
            if (term != null && cache.isInitialized()) {
                leader.cycle(term);
            }
            cycles++;
        } catch (RuntimeException e) {
            LOG.error("cycle failed; the next one runs in {} ms", interval.toMillis(), e);
        }
    }
}
