package io.pgsentinel.testkit;

import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loopback TCP proxy in front of one server, to cut a single client off while everything
 * else runs: {@link #cut()} drops every connection and refuses new ones (a partition);
 * {@link #blackhole()} keeps connections open but forwards nothing (packets lost);
 * {@link #delay(Duration)} forwards everything that much later, in each direction (a slow link);
 * {@link #restore()} lets traffic through again, without delay.
 */
public final class TcpProxy implements AutoCloseable {
    private final String targetHost;
    private final int targetPort;
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cut = new AtomicBoolean();
    private final AtomicBoolean blackholed = new AtomicBoolean();
    private volatile long delayNanos;
    private final Thread acceptor;

    public TcpProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        try {
            this.server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(Ports.LOOPBACK), 0));
        } catch (IOException e) {
            throw new IllegalStateException("cannot bind the proxy", e);
        }
        acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + targetPort);
        acceptor.setDaemon(true);
        acceptor.start();
        KitRun.get().register(this);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return Ports.LOOPBACK + ":" + port();
    }

    /** Drops every open connection and refuses new ones until {@link #restore()}. */
    public void cut() {
        cut.set(true);
        closeAll();
    }

    /** Forwards nothing, in either direction, until {@link #restore()}; connections stay open. */
    public void blackhole() {
        blackholed.set(true);
    }

    /** Forwards every byte {@code latency} after it arrived, in each direction, until {@link #restore()}. */
    public void delay(Duration latency) {
        delayNanos = latency.toNanos();
    }

    public void restore() {
        cut.set(false);
        blackholed.set(false);
        delayNanos = 0;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (cut.get()) {
                    client.close();
                    continue;
                }
                Socket upstream = new Socket();
                try {
                    upstream.connect(new InetSocketAddress(targetHost, targetPort), 2000);
                } catch (IOException e) {
                    client.close();
                    continue;
                }
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                // the server socket was closed
            }
        }
    }

    /** A chunk read at {@code readNanos}, to forward once the delay has passed; empty at the end. */
    private record Chunk(long readNanos, byte[] bytes) {
    }

    /** Reads {@code from} and hands each chunk to a writer that forwards it to {@code to} when due. */
    private void pump(Socket from, Socket to) {
        BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    queue.add(new Chunk(System.nanoTime(), Arrays.copyOf(buffer, n)));
                }
            } catch (IOException e) {
                // either side closed
            } finally {
                queue.add(new Chunk(System.nanoTime(), new byte[0]));
            }
        }, "tcp-proxy-read");
        Thread writer = new Thread(() -> {
            try (OutputStream out = to.getOutputStream()) {
                while (true) {
                    Chunk c = queue.take();
                    if (c.bytes().length == 0) {
                        break;
                    }
                    long due = c.readNanos() + delayNanos;
                    while (System.nanoTime() - due < 0 && !cut.get()) {
                        pause(Duration.ofNanos(Math.max(1_000_000L, Math.min(due - System.nanoTime(), 10_000_000L))));
                    }
                    while (blackholed.get() && !cut.get()) {
                        pause(Duration.ofMillis(10));
                    }
                    if (cut.get()) {
                        break;
                    }
                    out.write(c.bytes());
                    out.flush();
                }
            } catch (IOException e) {
                // either side closed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "tcp-proxy-write");
        for (Thread t : List.of(reader, writer)) {
            t.setDaemon(true);
            t.start();
        }
    }

    private void closeAll() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        cut.set(true);
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        closeAll();
        KitRun.get().unregister(this);
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
