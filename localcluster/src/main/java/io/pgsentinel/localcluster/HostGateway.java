package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The far end of the test JVM's way into a network namespace: a process run inside the
 * namespace (this JVM cannot route there, and must not add routes to the machine to do so),
 * listening on a UNIX domain socket, which a file path makes reachable from every namespace.
 *
 * <p>Per connection, a one-line header, then:
 * <ul>
 *   <li>{@code <address> <port>\n}: a TCP connection opened from inside the namespace, and bytes
 *       piped both ways until either side closes (a failed connect closes the connection);</li>
 *   <li>{@code probe <address> <port> <millis>\n}: one TCP connect with that timeout, answered
 *       with one line, a {@link Hosts.Reach} name, and closed.</li>
 * </ul>
 * It exits when the JVM that started it is gone, so a killed test leaves no gateway behind.
 */
public final class HostGateway {
    /** The line printed once the socket accepts connections. */
    static final String READY = "gateway ready";
    private static final int MAX_HEADER = 256;

    private HostGateway() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: HostGateway <unix socket path>");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        exitWithParent();
        PrintStream out = System.out;
        out.println(READY + " on " + path);
        out.flush();
        while (true) {
            SocketChannel client = server.accept();
            Thread t = new Thread(() -> serve(client), "gateway-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private static void serve(SocketChannel client) {
        try {
            String[] header = readLine(client).split(" ");
            if (header.length == 4 && header[0].equals("probe")) {
                Hosts.Reach reach = probe(header[1], Integer.parseInt(header[2]), Integer.parseInt(header[3]));
                writeLine(client, reach.name());
                client.close();
            } else if (header.length == 2) {
                SocketChannel target = SocketChannel.open();
                target.setOption(StandardSocketOptions.TCP_NODELAY, true);
                // no connect timeout of our own: a dropped SYN waits as long as the kernel makes
                // any client wait, and the client's own timeouts decide
                target.connect(new InetSocketAddress(header[0], Integer.parseInt(header[1])));
                Link.start("gateway", client, target, null);
            } else {
                writeLine(client, "bad header " + String.join(" ", header));
                client.close();
            }
        } catch (IOException | RuntimeException e) {
            Link.closeQuietly(client);
        }
    }

    static Hosts.Reach probe(String address, int port, int millis) {
        try (SocketChannel target = SocketChannel.open()) {
            target.socket().connect(new InetSocketAddress(address, port), millis);
            return Hosts.Reach.CONNECTED;
        } catch (SocketTimeoutException e) {
            return Hosts.Reach.TIMED_OUT;
        } catch (ConnectException e) {
            return Hosts.Reach.REFUSED;
        } catch (NoRouteToHostException e) {
            return Hosts.Reach.UNREACHABLE;
        } catch (IOException e) {
            return Hosts.Reach.UNREACHABLE;
        }
    }

    /** Reads up to the newline, one byte at a time: what follows it belongs to the piped stream. */
    static String readLine(SocketChannel channel) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        StringBuilder line = new StringBuilder();
        while (line.length() < MAX_HEADER) {
            one.clear();
            if (channel.read(one) < 0) {
                throw new IOException("connection closed before the end of the header: " + line);
            }
            char c = (char) one.get(0);
            if (c == '\n') {
                return line.toString();
            }
            line.append(c);
        }
        throw new IOException("header longer than " + MAX_HEADER + " bytes");
    }

    static void writeLine(SocketChannel channel, String line) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private static void exitWithParent() {
        long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        Thread watchdog = new Thread(() -> {
            while (true) {
                long now = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
                if (now != parent) {
                    System.exit(0);
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gateway-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
