package io.pgsentinel.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsentinel.localcluster.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The proxy's faults on a real echo server: through, delayed both ways, blackholed, cut, restored. */
class TcpProxyIT {

    /** An echo server on loopback: every byte comes back. */
    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName(Ports.LOOPBACK));
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread echo = new Thread(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException ignored) {
                            // closed
                        }
                    });
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server;
    }

    /** Milliseconds for one byte to go through the proxy and back. */
    private static long roundTrip(Socket s) throws IOException {
        long start = System.nanoTime();
        s.getOutputStream().write(42);
        s.getOutputStream().flush();
        assertThat(s.getInputStream().read()).isEqualTo(42);
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void forwardsDelaysBlackholesAndCuts() throws Exception {
        try (ServerSocket echo = echoServer(); TcpProxy proxy = new TcpProxy(Ports.LOOPBACK, echo.getLocalPort());
             Socket s = new Socket()) {
            s.connect(new InetSocketAddress(Ports.LOOPBACK, proxy.port()), 2000);
            s.setSoTimeout(3000);
            roundTrip(s);

            proxy.delay(Duration.ofMillis(150));
            assertThat(roundTrip(s)).as("two legs of 150 ms each").isGreaterThanOrEqualTo(300);
            proxy.restore();
            roundTrip(s);

            proxy.blackhole();
            s.setSoTimeout(500);
            s.getOutputStream().write(7);
            s.getOutputStream().flush();
            assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(java.net.SocketTimeoutException.class);
            proxy.restore();
            s.setSoTimeout(3000);
            assertThat(s.getInputStream().read()).as("held, then delivered").isEqualTo(7);

            proxy.cut();
            assertThat(s.getInputStream().read()).as("the connection is closed").isEqualTo(-1);
        }
    }
}
