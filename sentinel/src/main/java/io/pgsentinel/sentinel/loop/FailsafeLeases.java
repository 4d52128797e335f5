package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.time.MonotonicClock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The leases this sentinel granted to a primary's sentinel that lost ZooKeeper (failsafe): while
 * one runs, on this sentinel's monotonic clock, it does not vote that primary down, does not lead
 * and does not promote, even if ZooKeeper comes back meanwhile.
 */
public final class FailsafeLeases {
    private final MonotonicClock clock;
    private final Map<String, Long> until = new ConcurrentHashMap<>();

    public FailsafeLeases(MonotonicClock clock) {
        this.clock = clock;
    }

    /** Grants (or renews) a lease to {@code primary} for {@code millis} from now. */
    public long grant(String primary, long millis) {
        long end = clock.nowMillis() + millis;
        until.merge(primary, end, Math::max);
        return end;
    }

    /** The primary this sentinel holds a lease for, if one runs now. */
    public Optional<String> holding() {
        long now = clock.nowMillis();
        until.entrySet().removeIf(e -> e.getValue() <= now);
        return until.keySet().stream().findFirst();
    }

    public long remainingMillis(String primary) {
        return Math.max(0, until.getOrDefault(primary, 0L) - clock.nowMillis());
    }
}
