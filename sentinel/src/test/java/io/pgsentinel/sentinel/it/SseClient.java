package io.pgsentinel.sentinel.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** A Server-Sent Events client on java.net.http, reading the stream on a thread of its own (tests and benchmarks). */
public final class SseClient implements AutoCloseable {
    /** One event as received: its name, id, data, and when it arrived. */
    public record Event(String name, String id, String data, Instant arrived) {
    }

    public final List<Event> events = new CopyOnWriteArrayList<>();
    public final List<String> comments = new CopyOnWriteArrayList<>();
    public final CompletableFuture<HttpResponse<Stream<String>>> response;

    public SseClient(HttpClient http, String url) {
        response = http.sendAsync(HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream").GET()
                .build(), HttpResponse.BodyHandlers.ofLines());
        // a thread of its own: the common pool may have a single thread on 2 cores, and this one blocks
        response.thenAcceptAsync(r -> {
            String name = "message";
            String id = null;
            StringBuilder data = new StringBuilder();
            var lines = r.body().iterator();
            while (lines.hasNext()) {
                String line = lines.next();
                if (line.isEmpty()) {
                    if (data.length() > 0) {
                        events.add(new Event(name, id, data.toString(), Instant.now()));
                    }
                    name = "message";
                    id = null;
                    data.setLength(0);
                } else if (line.startsWith(":")) {
                    comments.add(line.substring(1).strip());
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).strip();
                } else if (line.startsWith("id:")) {
                    id = line.substring(3).strip();
                } else if (line.startsWith("data:")) {
                    data.append(data.length() > 0 ? "\n" : "").append(line.substring(5).stripLeading());
                }
            }
        }, task -> {
            Thread t = new Thread(task, "sse-client");
            t.setDaemon(true);
            t.start();
        });
    }

    public int status() throws Exception {
        return response.get().statusCode();
    }

    @Override
    public void close() {
        response.thenAccept(r -> r.body().close());
    }
}
