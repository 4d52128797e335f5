package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MinDuration;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.util.concurrent.TimeUnit;

/** {@code fencing:} how an old primary is kept from accepting writes. */
public class FencingConfig {
    /** {@code stop} (the only certain fence) or {@code readonly} (read-only plus terminating client backends). */
    @NotEmpty
    @JsonProperty
    public String selfFence = "stop";

    /** Optional STONITH hook, e.g. {@code /usr/local/bin/fence {id} {host}}; exit 0 means fenced. */
    @JsonProperty
    public String command = "";

    @NotNull
    @MinDuration(value = 100, unit = TimeUnit.MILLISECONDS)
    @JsonProperty
    public Duration commandTimeout = Duration.seconds(10);

    /**
     * The time a self-fence (on losing ZooKeeper) may take to be certain: stop immediate, then
     * SIGKILL. See the timing rule in docs/architecture.md.
     */
    @NotNull
    @MinDuration(value = 100, unit = TimeUnit.MILLISECONDS)
    @JsonProperty
    public Duration selfFenceTimeout = Duration.seconds(1);

    @ValidationMethod(message = "fencing.selfFence must be stop or readonly")
    public boolean isSelfFenceValid() {
        return selfFence == null || selfFence.equals("stop") || selfFence.equals("readonly");
    }
}
