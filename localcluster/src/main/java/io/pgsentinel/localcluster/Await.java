package io.pgsentinel.localcluster;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Waits for a condition on the monotonic clock, never for a fixed time. The condition may
 * throw while it is not yet true (a server still starting); the last exception is attached
 * to the timeout error so a failing test says what it saw.
 */
public final class Await {
    private static final Duration DEFAULT_POLL = Duration.ofMillis(25);

    private Await() {
    }

    /** Polls {@code condition} until it returns true or {@code timeout} passes. */
    public static void until(String what, Duration timeout, Callable<Boolean> condition) {
        until(what, timeout, DEFAULT_POLL, condition);
    }

    public static void until(String what, Duration timeout, Duration poll, Callable<Boolean> condition) {
        value(what, timeout, poll, () -> Boolean.TRUE.equals(condition.call()) ? Boolean.TRUE : null);
    }

    /** Polls {@code supplier} until it returns a non-null value, and returns that value. */
    public static <T> T value(String what, Duration timeout, Callable<T> supplier) {
        return value(what, timeout, DEFAULT_POLL, supplier);
    }

    public static <T> T value(String what, Duration timeout, Duration poll, Callable<T> supplier) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                T value = supplier.call();
                if (value != null) {
                    return value;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + (last == null ? "" : " (last error: " + last + ")"), last);
            }
            sleep(poll);
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
