package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import jakarta.validation.constraints.NotNull;
import java.util.concurrent.TimeUnit;

/** {@code failover:} how automatic failovers are carried out and spaced. */
public class FailoverConfig {
    /**
     * Anti-flapping: a node demoted by a failover is not promoted back automatically within this
     * time (the decision says so while it holds); any other node may be. 0s turns it off.
     */
    @NotNull
    @MinDuration(value = 0, unit = TimeUnit.SECONDS)
    @JsonProperty
    public Duration minInterval = Duration.seconds(60);

    /**
     * When the primary's own sentinel restarts it in place (it fenced it while ZooKeeper was
     * away) and reports it "starting" (a crash recovery may take a while), the leader waits this
     * long for it before failing over; a server its sentinel has not begun to start gets
     * failureDetection.downAfter. A cluster setting (seeded from here).
     */
    @NotNull
    @MinDuration(value = 0, unit = TimeUnit.SECONDS)
    @JsonProperty
    public Duration primaryStartTimeout = Duration.seconds(30);

    /**
     * How long the leader waits for the old primary's fence to be confirmed before it gives up
     * this attempt (and decides again).
     */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    @JsonProperty
    public Duration fenceConfirmTimeout = Duration.seconds(15);

    /**
     * A planned switchover gives the primary back (rollback) when the old primary is not stopped
     * cleanly, or the candidate has not received its last WAL, within this time.
     */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    @JsonProperty
    public Duration switchoverTimeout = Duration.seconds(30);
}
