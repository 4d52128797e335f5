package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MaxDuration;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.NotNull;
import java.util.concurrent.TimeUnit;

/**
 * {@code hooks:} commands the sentinel runs when its server changes (docs/operations.md,
 * "Hooks"), like Patroni's callbacks. Each is run by {@code sh -c}, one at a time in the order
 * of the events, with {@code timeout}; never on the sentinel's cycle. Empty: not run.
 */
public class HooksConfig {
    /** When the server is seen running after it was not (and when the sentinel starts with it running). */
    @NotNull
    @JsonProperty
    public String onStart = "";

    /** When the server is seen stopped after it ran (a fence, a rewind, a crash). */
    @NotNull
    @JsonProperty
    public String onStop = "";

    /** When the server's role changes: primary, replica, demoted (writable, no longer the published primary), stopped. */
    @NotNull
    @JsonProperty
    public String onRoleChange = "";

    /** On the leader, once a failover or switchover is published. */
    @NotNull
    @JsonProperty
    public String onFailover = "";

    /** How long one hook may run before it is killed (and counted as failed). */
    @NotNull
    @MinDuration(value = 100, unit = TimeUnit.MILLISECONDS)
    @MaxDuration(value = 10, unit = TimeUnit.MINUTES)
    @JsonProperty
    public Duration timeout = Duration.seconds(30);
}
