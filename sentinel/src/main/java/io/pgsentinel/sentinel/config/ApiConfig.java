package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.validation.ValidationMethod;

/**
 * {@code api:} who may steer the cluster through the HTTP API. Mutating endpoints
 * ({@code POST /switchover}, {@code POST /maintenance}) need the token; read endpoints are open
 * unless {@code readRequiresAuth}. The token is read from a file, never written in the YAML.
 */
public class ApiConfig {
    /**
     * A file whose first line is the API token, sent as {@code Authorization: Bearer <token>} or
     * as the password of basic auth. Empty: mutating endpoints are disabled (the CLI still works
     * through ZooKeeper).
     */
    @JsonProperty
    public String tokenFile = "";

    /** Also require the token on read endpoints (HAProxy checks then need it too). */
    @JsonProperty
    public boolean readRequiresAuth = false;

    /** How many clients may follow {@code GET /events} at once; one more is answered 503. */
    @jakarta.validation.constraints.Min(1)
    @jakarta.validation.constraints.Max(10_000)
    @JsonProperty
    public int maxEventSubscribers = 64;

    /** How often {@code GET /events} sends a heartbeat comment on an idle stream. */
    @jakarta.validation.constraints.NotNull
    @JsonProperty
    public io.dropwizard.util.Duration eventHeartbeat = io.dropwizard.util.Duration.seconds(10);

    @io.dropwizard.validation.ValidationMethod(message = "api.eventHeartbeat must be between 100ms and 1h")
    public boolean isEventHeartbeatValid() {
        return eventHeartbeat == null || eventHeartbeat.toMilliseconds() >= 100 && eventHeartbeat.toMilliseconds() <= 3_600_000;
    }

    /** The largest request body accepted, in bytes. */
    @JsonProperty
    public int maxBodyBytes = 16 * 1024;

    @ValidationMethod(message = "api.tokenFile must be a readable file")
    public boolean isTokenFileReadable() {
        return Secrets.isReadableOrUnset(tokenFile);
    }

    @ValidationMethod(message = "api.readRequiresAuth needs api.tokenFile")
    public boolean isReadAuthPossible() {
        return !readRequiresAuth || (tokenFile != null && !tokenFile.isEmpty());
    }
}
