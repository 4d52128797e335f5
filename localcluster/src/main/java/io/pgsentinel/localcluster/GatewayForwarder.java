package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The test JVM's end of a way into a namespace: a loopback listener whose every connection is
 * handed to a {@link HostGateway} (over its UNIX socket, with the target in a header line) and
 * piped both ways. JDBC, Curator and HTTP clients of the test connect to {@link #endpoint()}
 * as if the server were local.
 */
final class GatewayForwarder implements AutoCloseable {
    private final Path gatewaySocket;
    private final String targetAddress;
    private final int targetPort;
    private final ServerSocketChannel server;
    private final Endpoint endpoint;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();

    GatewayForwarder(Path gatewaySocket, String targetAddress, int targetPort) {
        this.gatewaySocket = gatewaySocket;
        this.targetAddress = targetAddress;
        this.targetPort = targetPort;
        try {
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), 0));
            endpoint = new Endpoint(Ports.LOOPBACK, ((InetSocketAddress) server.getLocalAddress()).getPort());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind a loopback forwarder to " + targetAddress + ":" + targetPort, e);
        }
        Thread acceptor = new Thread(this::acceptLoop, "forward-" + targetAddress + ":" + targetPort);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    Endpoint endpoint() {
        return endpoint;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            SocketChannel gateway = null;
            try {
                client.setOption(StandardSocketOptions.TCP_NODELAY, true);
                gateway = SocketChannel.open(StandardProtocolFamily.UNIX);
                gateway.connect(UnixDomainSocketAddress.of(gatewaySocket));
                HostGateway.writeLine(gateway, targetAddress + " " + targetPort);
                Link link = Link.start("forward", client, gateway, links::remove);
                links.add(link);
                if (!client.isOpen()) {
                    links.remove(link); // closed before it was added
                }
            } catch (IOException e) {
                // the gateway is gone (its namespace closed): the client sees its connection closed
                Link.closeQuietly(client);
                if (gateway != null) {
                    Link.closeQuietly(gateway);
                }
            }
        }
    }

    @Override
    public void close() {
        Link.closeQuietly(server);
        for (Link link : links) {
            link.close();
        }
        links.clear();
    }

    @Override
    public String toString() {
        return "forwarder " + endpoint() + " -> " + targetAddress + ":" + targetPort + " via " + gatewaySocket;
    }
}
