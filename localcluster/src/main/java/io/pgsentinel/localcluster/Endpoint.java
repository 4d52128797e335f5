package io.pgsentinel.localcluster;

/** A TCP endpoint, {@code host:port}: where a client connects. */
public record Endpoint(String host, int port) {
    public Endpoint {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in 1..65535, got " + port);
        }
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
