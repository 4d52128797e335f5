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
