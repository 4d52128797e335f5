package io.pgsentinel.localcluster;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two connected channels joined both ways, a thread per direction (blocking I/O: the least
 * latency for a handful of connections). The end of one direction half-closes the other side,
 * so a protocol that shuts its output down still gets its answer; an error, or both directions
 * ended, closes both channels.
 */
final class Link implements AutoCloseable {
    private static final int BUFFER = 64 * 1024;
    private final SocketChannel a;
    private final SocketChannel b;
    private final AtomicInteger ended = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Consumer<Link> onClose;

    private Link(SocketChannel a, SocketChannel b, Consumer<Link> onClose) {
        this.a = a;
        this.b = b;
        this.onClose = onClose;
    }

    /** Starts pumping between {@code a} and {@code b}; {@code onClose} (if any) gets the link once both are closed. */
    static Link start(String name, SocketChannel a, SocketChannel b, Consumer<Link> onClose) {
        Link link = new Link(a, b, onClose);
        link.pump(name + "->", a, b);
        link.pump(name + "<-", b, a);
        return link;
    }

    private void pump(String name, SocketChannel from, SocketChannel to) {
        Thread t = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
            try {
                while (from.read(buffer) >= 0) {
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        to.write(buffer);
                    }
                    buffer.clear();
                }
                to.shutdownOutput();
                if (ended.incrementAndGet() == 2) {
                    close();
                }
            } catch (IOException e) {
                close();
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeQuietly(a);
        closeQuietly(b);
        if (onClose != null) {
            onClose.accept(this);
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already closed, or the peer is gone
        }
    }
}
