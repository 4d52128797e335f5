package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The test JVM's ways into the namespaces of one {@link Hosts} run: a {@link HostGateway}
 * process per namespace, started on first use, and a loopback {@link GatewayForwarder} per
 * (namespace, target), made on first use and kept.
 */
final class Gateways implements AutoCloseable {
    /** Unix socket paths are limited to 107 bytes. */
    private static final int MAX_SOCKET_PATH = 107;

    private final Path directory;
    private final Map<String, ChildJvm> processes = new ConcurrentHashMap<>();
    private final Map<String, GatewayForwarder> forwarders = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gateway-probe-timer");
        t.setDaemon(true);
        return t;
    });

    Gateways(Path directory) {
        this.directory = directory;
    }

    /** A loopback endpoint of this JVM whose connections are opened to {@code address:port} from inside {@code via}. */
    Endpoint reach(Host via, String address, int port) {
        String key = via.name() + " " + address + ":" + port;
        return forwarders.computeIfAbsent(key, k -> new GatewayForwarder(socketOf(via), address, port)).endpoint();
    }

    /** One TCP connect from inside {@code from}, and how it ended. */
    Hosts.Reach probe(Host from, String address, int port, Duration timeout) {
        Path socket = socketOf(from);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            // the gateway answers within the timeout; this bounds a gateway that does not
            ScheduledFuture<?> guard = timers.schedule(() -> Link.closeQuietly(channel),
                    timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
            try {
                HostGateway.writeLine(channel, "probe " + address + " " + port + " " + Math.max(1, timeout.toMillis()));
                return Hosts.Reach.valueOf(HostGateway.readLine(channel).strip());
            } finally {
                guard.cancel(false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("probe of " + address + ":" + port + " from " + from + " failed", e);
        }
    }

    /** The socket of the gateway in {@code host}'s namespace, its process started on first use. */
    private Path socketOf(Host host) {
        Path socket = directory.resolve(host.name() + ".gw");
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new IllegalStateException("gateway socket path longer than " + MAX_SOCKET_PATH + " bytes: " + socket
                    + " (set -D" + KitRun.ROOT_PROPERTY + " to a shorter directory)");
        }
        processes.computeIfAbsent(host.name(), name -> {
            ChildJvm jvm = ChildJvm.builder("gateway-" + name, HostGateway.class.getName())
                    .on(host)
                    .jvmArg("-Xmx32m")
                    .jvmArg("-Xss256k")
                    .args(socket.toString())
                    .start();
            try {
                Await.until("gateway on " + host + " to listen", Duration.ofSeconds(30), () -> {
                    if (!jvm.isAlive()) {
                        throw new IllegalStateException("gateway exited: " + jvm.logText().strip());
                    }
                    return jvm.logText().contains(HostGateway.READY);
                });
            } catch (AssertionError | RuntimeException e) {
                jvm.close();
                throw e;
            }
            return jvm;
        });
        return socket;
    }

    @Override
    public void close() {
        forwarders.values().forEach(GatewayForwarder::close);
        forwarders.clear();
        processes.values().forEach(ChildJvm::close);
        processes.clear();
        timers.shutdownNow();
    }
}
