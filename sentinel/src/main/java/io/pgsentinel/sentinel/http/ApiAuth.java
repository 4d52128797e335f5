package io.pgsentinel.sentinel.http;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the API token: {@code Authorization: Bearer <token>}, or basic auth with the token as
 * password (any user name). 401 without credentials, 403 with wrong ones; the comparison takes
 * the same time whatever the guess. The token itself is never logged or echoed.
 */
public final class ApiAuth {
    private final Optional<byte[]> token;

    public ApiAuth(Optional<String> token) {
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
    }

    public boolean configured() {
        return token.isPresent();
    }

    /** The token, for the sentinels' own calls to each other. */
    public Optional<String> token() {
        return token.map(t -> new String(t, StandardCharsets.UTF_8));
    }

    /** Aborts {@code request} with 401 or 403 unless it carries the token. */
    void check(ContainerRequestContext request, String what) {
        if (token.isEmpty()) {
            request.abortWith(error(403, what + " is disabled: no api.tokenFile is configured on this sentinel"));
            return;
        }
        String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header == null || header.isBlank()) {
            request.abortWith(Response.status(401).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"pg-sentinel\"")
                    .type(MediaType.APPLICATION_JSON).entity(Map.of("error", "authentication required")).build());
            return;
        }
        byte[] presented = presented(header.strip());
        if (presented == null || !MessageDigest.isEqual(presented, token.get())) {
            request.abortWith(error(403, "wrong credentials"));
        }
    }

    private static byte[] presented(String header) {
        if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        }
        if (header.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String decoded = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                return colon < 0 ? null : decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return null;
    }

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", message)).build();
    }
}
