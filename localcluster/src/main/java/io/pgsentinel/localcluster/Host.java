package io.pgsentinel.localcluster;

import java.util.List;

/**
 * Where a process of the kit runs and how it is reached: the machine itself ({@link #LOOPBACK},
 * every process on 127.0.0.1 with its own free port, as the kit always did), or one host of
 * {@link Hosts}, a network namespace with its own address and port space that faults can cut.
 *
 * <p>Two views of one server: {@link #address()} and the server's port are what other processes
 * of the test cluster use (a replica's {@code primary_conninfo}, a sentinel's configuration);
 * {@link #reach(int)} is what the test JVM itself connects to, which for a namespace host is a
 * loopback forwarder through the observer (this JVM cannot route into the namespaces).
 */
public interface Host {
    /** The machine's own network: commands run unchanged and listen on 127.0.0.1. */
    Host LOOPBACK = new Host() {
        @Override
        public String name() {
            return "loopback";
        }

        @Override
        public String address() {
            return Ports.LOOPBACK;
        }

        @Override
        public List<String> wrap(List<String> command) {
            return command;
        }

        @Override
        public Endpoint reach(int port) {
            return new Endpoint(Ports.LOOPBACK, port);
        }

        @Override
        public String toString() {
            return "loopback";
        }
    };

    /** The host's name ({@code db1}), or {@code loopback}. */
    String name();

    /** The address other processes of the test cluster use to reach this host. */
    String address();

    /** {@code command} made to run on this host ({@code ip netns exec <namespace> ...}, or unchanged). */
    List<String> wrap(List<String> command);

    /** Where the test JVM connects to reach {@code address():port} on this host. */
    Endpoint reach(int port);
}
