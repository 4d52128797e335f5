package io.pgsentinel.sentinel.guard;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Whether the peers can be reached over the network: a TCP connection to any endpoint of a peer
 * (its PostgreSQL server, its sentinel's API) that is accepted, or refused (a refusal crossed the
 * network too). A connection needs packets both ways, so a peer this host reaches can reach it.
 */
public final class PeerReach {
    private static final ExecutorService PROBES = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pg-sentinel-reach");
        t.setDaemon(true);
        return t;
    });

    private PeerReach() {
    }

    /** An endpoint from "host:port". */
    public static InetSocketAddress endpoint(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return InetSocketAddress.createUnresolved(hostPort.substring(0, colon),
                Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** How many of {@code peers} (each a list of endpoints) answer within {@code timeoutMillis}, asked in parallel. */
    public static CompletableFuture<Integer> count(List<List<InetSocketAddress>> peers, int timeoutMillis) {
        List<CompletableFuture<Boolean>> each = new ArrayList<>();
        for (List<InetSocketAddress> peer : peers) {
            each.add(CompletableFuture.supplyAsync(() -> peer.stream().anyMatch(e -> answers(e, timeoutMillis)), PROBES));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> (int) each.stream().filter(CompletableFuture::join).count());
    }

    static boolean answers(InetSocketAddress endpoint, int timeoutMillis) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(endpoint.getHostString(), endpoint.getPort()), timeoutMillis);
            return true;
        } catch (ConnectException e) {
            return e.getMessage() != null && e.getMessage().contains("refused");
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }
}
