package io.pgsentinel.sentinel.loop;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingTimeWindowArrayReservoir;
import com.codahale.metrics.Timer;
import io.pgsentinel.sentinel.decision.Decision;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The sentinel's Dropwizard metrics (also exposed in Prometheus format on the admin port):
 * probe latency, failovers and their stage durations, fences, decisions by kind.
 */
public final class SentinelMetrics {
    public static final String PREFIX = "pgsentinel";

    private final MetricRegistry registry;
    private final Timer localProbe;
    private final Timer peerProbe;
    private final Counter fences;
    private final Counter selfFences;

    public SentinelMetrics(MetricRegistry registry) {
        this.registry = registry;
        this.localProbe = registry.timer(MetricRegistry.name(PREFIX, "probe", "local"));
        this.peerProbe = registry.timer(MetricRegistry.name(PREFIX, "probe", "peer"));
        this.fences = registry.counter(MetricRegistry.name(PREFIX, "fences"));
        this.selfFences = registry.counter(MetricRegistry.name(PREFIX, "fences", "self"));
    }

    public MetricRegistry registry() {
        return registry;
    }

    Timer localProbe() {
        return localProbe;
    }

    Timer peerProbe() {
        return peerProbe;
    }

    void fenced(boolean self) {
        fences.inc();
        if (self) {
            selfFences.inc();
        }
    }

    void decided(Decision d) {
        Meter m = registry.meter(MetricRegistry.name(PREFIX, "decisions", d.action().json()));
        m.mark();
    }

    /** Records one failover stage, in milliseconds (e.g. "decideToFenced"). */
    void stage(String stage, long millis) {
        Histogram h = registry.histogram(MetricRegistry.name(PREFIX, "failover", "stage",
                stage.toLowerCase(Locale.ROOT)), () -> new Histogram(new SlidingTimeWindowArrayReservoir(1, TimeUnit.DAYS)));
        h.update(millis);
    }
}
