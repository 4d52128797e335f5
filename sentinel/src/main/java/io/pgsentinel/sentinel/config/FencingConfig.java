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
    /**
     * {@code stop}. {@code readonly} is still accepted and fences by a stop too: a read-only server
     * (default_transaction_read_only) still commits a {@code BEGIN READ WRITE} from any session, so
     * it is no fence, and a failover must never count it as one.
     */
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

    /**
     * {@code on} (the default) or {@code off}: the guard, a small process next to the sentinel
     * that outlives it and keeps its self-fence promise while it is stopped, crashed or frozen
     * (docs/architecture.md). Off, the leader never takes this sentinel's absence for a fence:
     * only a stop it reports or fencing.command confirms one.
     */
    private String guard = "on";

    @JsonProperty("guard")
    public String getGuard() {
        return guard;
    }

    /** YAML reads an unquoted on/off as a boolean: both forms are accepted. */
    @JsonProperty("guard")
    public void setGuard(Object value) {
        this.guard = OnOff.read(value);
    }

    public boolean guardEnabled() {
        return OnOff.isOn(guard);
    }

    @ValidationMethod(message = "fencing.guard must be on or off")
    public boolean isGuardValid() {
        return OnOff.isValid(guard);
    }

    @ValidationMethod(message = "fencing.selfFence must be stop or readonly")
    public boolean isSelfFenceValid() {
        return selfFence == null || selfFence.equals("stop") || selfFence.equals("readonly");
    }
}
