package io.pgsentinel.sentinel.http;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * {@code GET /}: the live status page for the person on call, and its two assets under
 * {@code /ui/}. Static files from the jar (no CDN, no internet); the page reads {@code /cluster},
 * {@code /history} and {@code /events} itself, sending the API token when the API needs one, so
 * the page and its assets are served without it (they hold no data).
 */
@Path("/")
public final class StatusPageResource {
    private static final Map<String, String> ASSETS = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8");
    private final Map<String, byte[]> content;

    public StatusPageResource() {
        content = new java.util.HashMap<>();
        for (String name : ASSETS.keySet()) {
            try (InputStream in = StatusPageResource.class.getResourceAsStream("/ui/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("the status page's " + name + " is missing from the jar");
                }
                content.put(name, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Whether {@code path} (relative, as Jersey gives it) is the page or one of its assets. */
    static boolean isPage(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        return p.isEmpty() || p.startsWith("ui/") && ASSETS.containsKey(p.substring(3));
    }

    @GET
    public Response page() {
        return asset("index.html");
    }

    @GET
    @Path("ui/{name}")
    public Response asset(@PathParam("name") String name) {
        String type = ASSETS.get(name);
        if (type == null) {
            return Response.status(404).type("text/plain").entity("no such asset").build();
        }
        return Response.ok(content.get(name)).type(type).header("Cache-Control", "no-cache")
                .header("X-Content-Type-Options", "nosniff").build();
    }
}
