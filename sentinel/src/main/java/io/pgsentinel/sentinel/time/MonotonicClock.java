package io.pgsentinel.sentinel.time;

import java.time.Instant;

/**
 * Time, injected. Every timeout and duration uses {@link #nowMillis()} (monotonic, from
 * {@link System#nanoTime()}); wall-clock time is only written into documents for people.
 */
public interface MonotonicClock {
    long nowMillis();

    Instant wallClock();

    MonotonicClock SYSTEM = new MonotonicClock() {
        @Override
        public long nowMillis() {
            return System.nanoTime() / 1_000_000L;
        }

        @Override
        public Instant wallClock() {
            return Instant.now();
        }
    };
}
