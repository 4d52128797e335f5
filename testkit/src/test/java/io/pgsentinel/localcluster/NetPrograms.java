package io.pgsentinel.localcluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Small programs the network tests run on hosts, as child JVMs. */
final class NetPrograms {
    private NetPrograms() {
    }

    /** Listens on the port given; tells each client the address it came from, and prints it. */
    public static final class Listener {
        public static void main(String[] args) throws IOException {
            try (ServerSocket server = new ServerSocket()) {
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
                System.out.println("listening");
                while (true) {
                    try (Socket client = server.accept()) {
                        String peer = client.getInetAddress().getHostAddress();
                        System.out.println("peer " + peer);
                        OutputStream out = client.getOutputStream();
                        out.write((peer + "\n").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                }
            }
        }
    }

    /** Connects to host port every 100 ms and prints how the listener saw it: "seen as <address> <n>". */
    public static final class Client {
        public static void main(String[] args) throws InterruptedException {
            for (long n = 1; ; n++) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 2000);
                    s.setSoTimeout(2000);
                    String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
                            .readLine();
                    System.out.println("seen as " + line + " " + n);
                } catch (IOException e) {
                    System.out.println("failed " + e + " " + n);
                }
                Thread.sleep(100);
            }
        }
    }

    /** Listens on the port given and echoes every line back, for as long as each connection lasts. */
    public static final class Echo {
        public static void main(String[] args) throws IOException {
            try (ServerSocket server = new ServerSocket()) {
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress(Integer.parseInt(args[0])));
                while (true) {
                    Socket client = server.accept();
                    Thread t = new Thread(() -> {
                        try (client) {
                            client.getInputStream().transferTo(client.getOutputStream());
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                }
            }
        }
    }

    /** Reads the one line a {@link Listener} writes, through a socket to {@code endpoint}. */
    static String askListener(Endpoint endpoint) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), 5000);
            s.setSoTimeout(5000);
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }
}
