package io.pgsentinel.shared.client;

import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules every topology source applies, in one place: decode, check the cluster, apply the
 * epoch rule, keep the last good document, notify listeners. Thread-safe; {@link #offer} is
 * serialized so listeners see changes in order.
 */
final class TopologyTracker {
    private static final Logger LOG = LoggerFactory.getLogger(TopologyTracker.class);

    private final String cluster;
    private final List<TopologyListener> listeners = new CopyOnWriteArrayList<>();
    private final List<TopologyListener> primaryListeners = new CopyOnWriteArrayList<>();
    private final CountDownLatch first = new CountDownLatch(1);
    private final AtomicLong rejected = new AtomicLong();
    private volatile Topology current;

    TopologyTracker(String cluster) {
        this.cluster = cluster;
    }

    Optional<Topology> current() {
        return Optional.ofNullable(current);
    }

    long rejectedCount() {
        return rejected.get();
    }

    Topology awaitFirst(Duration timeout) throws TimeoutException, InterruptedException {
        if (!first.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new TimeoutException("no topology of cluster " + cluster + " within " + timeout.toMillis() + " ms");
        }
        return current;
    }

    void addListener(TopologyListener listener) {
        listeners.add(listener);
        Topology now = current;
        if (now != null) {
            notify(listener, null, now);
        }
    }

    void addPrimaryListener(TopologyListener listener) {
        primaryListeners.add(listener);
        Topology now = current;
        if (now != null) {
            notify(listener, null, now);
        }
    }

    void removeListener(TopologyListener listener) {
        listeners.remove(listener);
        primaryListeners.remove(listener);
    }

    /** Decodes and offers a document read from {@code origin}; returns whether it was accepted. */
    boolean offer(byte[] document, String origin) {
        Topology candidate;
        try {
            candidate = TopologyCodec.decode(document);
        } catch (DocumentException e) {
            reject(origin, "malformed: " + e.getMessage());
            return false;
        }
        return offer(candidate, origin);
    }

    synchronized boolean offer(Topology candidate, String origin) {
        if (!candidate.cluster().equals(cluster)) {
            reject(origin, "it is the topology of cluster " + candidate.cluster() + ", not " + cluster);
            return false;
        }
        Topology previous = current;
        if (previous != null) {
            if (candidate.epoch() < previous.epoch()) {
                reject(origin, "epoch " + candidate.epoch() + " is lower than epoch " + previous.epoch() + " already seen");
                return false;
            }
            if (candidate.epoch() == previous.epoch()) {
                if (!candidate.primary().equals(previous.primary())) {
                    reject(origin, "epoch " + candidate.epoch() + " names primary " + candidate.primary().id()
                            + " but that epoch was already seen with primary " + previous.primary().id());
                    return false;
                }
                if (candidate.updatedAt().isBefore(previous.updatedAt())) {
                    return false; // an older copy of the same epoch (a slower sentinel): nothing new
                }
                if (candidate.sameContentAs(previous)) {
                    current = candidate;
                    return true;
                }
            }
        }
        current = candidate;
        first.countDown();
        for (TopologyListener l : listeners) {
            notify(l, previous, candidate);
        }
        if (previous == null || !previous.primary().equals(candidate.primary())) {
            LOG.info("topology of {}: primary is {} at {}:{} (epoch {}, from {})", cluster, candidate.primary().id(),
                    candidate.primary().host(), candidate.primary().port(), candidate.epoch(), origin);
            for (TopologyListener l : primaryListeners) {
                notify(l, previous, candidate);
            }
        }
        return true;
    }

    private void reject(String origin, String why) {
        rejected.incrementAndGet();
        LOG.warn("ignoring the topology from {}: {}; keeping {}", origin, why,
                current == null ? "none yet" : "epoch " + current.epoch());
    }

    private static void notify(TopologyListener listener, Topology previous, Topology current) {
        try {
            listener.changed(previous, current);
        } catch (RuntimeException e) {
            LOG.error("topology listener {} failed", listener, e);
        }
    }
}
