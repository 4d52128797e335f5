package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.util.concurrent.TimeUnit;

/** {@code failureDetection:} how often servers are probed and when a primary counts as down. */
public class FailureDetectionConfig {
    @NotNull
    @MinDuration(value = 50, unit = TimeUnit.MILLISECONDS)
    @JsonProperty
    public Duration checkInterval = Duration.milliseconds(500);

    @NotNull
    @MinDuration(value = 50, unit = TimeUnit.MILLISECONDS)
    @JsonProperty
    public Duration checkTimeout = Duration.seconds(1);

    @NotNull
    @MinDuration(value = 100, unit = TimeUnit.MILLISECONDS)
    @JsonProperty
    public Duration downAfter = Duration.seconds(3);

    /** {@code majority} of registered nodes, or a number of sentinels. */
    @NotEmpty
    @JsonProperty
    public String quorum = "majority";

    @ValidationMethod(message = "failureDetection.downAfter must be longer than failureDetection.checkInterval (several probes must fail)")
    public boolean isDownAfterAboveInterval() {
        return downAfter == null || checkInterval == null || downAfter.toMilliseconds() > checkInterval.toMilliseconds();
    }

    @ValidationMethod(message = "failureDetection.checkTimeout must not be longer than failureDetection.downAfter")
    public boolean isTimeoutWithinDownAfter() {
        return downAfter == null || checkTimeout == null || checkTimeout.toMilliseconds() <= downAfter.toMilliseconds();
    }

    @ValidationMethod(message = "failureDetection.quorum must be 'majority' or a whole number of sentinels from 1 to 99")
    public boolean isQuorumValid() {
        return quorum == null || quorum.equals("majority") || quorum.matches("[1-9][0-9]?");
    }

    /** The configured fixed quorum, or 0 for a majority of registered nodes. */
    public int fixedQuorum() {
        return quorum.equals("majority") ? 0 : Integer.parseInt(quorum);
    }
}
