package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A ZooKeeper ensemble of real server processes, one per host of {@link Hosts}: each a child
 * JVM running {@code QuorumPeerMain} in its host's namespace, client port 2181 and quorum ports
 * 2888/3888 on the host's address, so that network faults cut the quorum for real. The test JVM
 * talks to it through the observer ({@link #reach}).
 */
final class HostedZkEnsemble extends ZkEnsemble {
    static final int CLIENT_PORT = 2181;
    static final int QUORUM_PORT = 2888;
    static final int ELECTION_PORT = 3888;
    private static final String MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

    private final Hosts hosts;
    private final List<Host> servers;
    private final Path directory;
    private final List<ChildJvm> processes = new ArrayList<>();
    private boolean closed;

    private HostedZkEnsemble(Hosts hosts, List<Host> servers, Path directory) {
        this.hosts = hosts;
        this.servers = servers;
        this.directory = directory;
    }

    static ZkEnsemble create(Hosts hosts, List<String> hostNames, int tickMillis) {
        if (hostNames.isEmpty()) {
            throw new IllegalArgumentException("a ZooKeeper ensemble needs at least one host");
        }
        if (new java.util.HashSet<>(hostNames).size() != hostNames.size()) {
            throw new IllegalArgumentException("a host appears twice in " + hostNames);
        }
        List<Host> servers = hostNames.stream().map(hosts::host).toList();
        KitRun run = KitRun.get();
        HostedZkEnsemble ensemble = new HostedZkEnsemble(hosts, servers, run.newDirectory("zk"));
        run.register(ensemble);
        try {
            ensemble.writeConfiguration(tickMillis);
            for (int i = 0; i < servers.size(); i++) {
                ensemble.processes.add(ensemble.launch(i));
            }
            ensemble.awaitWritable(Duration.ofSeconds(60));
            return ensemble;
        } catch (RuntimeException | AssertionError e) {
            String logs = ensemble.logs();
            ensemble.close();
            throw new IllegalStateException("ZooKeeper ensemble on " + hostNames + " did not start: " + e.getMessage()
                    + "\n" + logs, e);
        }
    }

    /**
     * zoo.cfg and myid of each server. The admin server (an HTTP port) is off and no four-letter
     * command is whitelisted (ZooKeeper always keeps {@code srvr}); a logback configuration keeps
     * only WARN and above, in the server's log file.
     */
    private void writeConfiguration(int tickMillis) {
        StringBuilder members = new StringBuilder();
        for (int i = 0; i < servers.size(); i++) {
            members.append("server.").append(i + 1).append('=').append(servers.get(i).address())
                    .append(':').append(QUORUM_PORT).append(':').append(ELECTION_PORT).append('\n');
        }
        try {
            Files.writeString(logbackFile(), """
                    <configuration>
                      <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>
                      </appender>
                      <root level="WARN"><appender-ref ref="OUT"/></root>
                    </configuration>
                    """, StandardCharsets.UTF_8);
            for (int i = 0; i < servers.size(); i++) {
                Path data = Files.createDirectories(directory.resolve("server" + (i + 1)));
                Files.writeString(data.resolve("myid"), Integer.toString(i + 1), StandardCharsets.UTF_8);
                String cfg = "tickTime=" + tickMillis + "\n"
                        + "initLimit=5\n"
                        + "syncLimit=2\n"
                        + "dataDir=" + data + "\n"
                        + "clientPort=" + CLIENT_PORT + "\n"
                        + "admin.enableServer=false\n"
                        + "4lw.commands.whitelist=\n"
                        + members;
                Files.writeString(configFile(i), cfg, StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path configFile(int index) {
        return directory.resolve("zoo" + (index + 1) + ".cfg");
    }

    private Path logbackFile() {
        return directory.resolve("logback-zk.xml");
    }

    /**
     * One server's JVM. Election notifications back off to at most 1 s (ZooKeeper's default of
     * 60 s made the first start take 4.5 s here when one server's JVM came up later than the others).
     */
    private ChildJvm launch(int index) {
        Host host = servers.get(index);
        return ChildJvm.builder("zk" + (index + 1) + "-" + host.name(), MAIN_CLASS)
                .on(host)
                .jvmArg("-Xmx128m")
                .jvmArg("-Dlogback.configurationFile=" + logbackFile())
                .jvmArg("-Dzookeeper.jmx.log4j.disable=true")
                .jvmArg("-Dzookeeper.fastleader.maxNotificationInterval=1000")
                .args(configFile(index).toString())
                .start();
    }

    @Override
    public String connectString(int index) {
        return servers.get(index).address() + ":" + CLIENT_PORT;
    }

    @Override
    public Endpoint reach(int index) {
        return servers.get(index).reach(CLIENT_PORT);
    }

    @Override
    public int size() {
        return servers.size();
    }

    @Override
    public int clientPort(int index) {
        servers.get(index);
        return CLIENT_PORT;
    }

    @Override
    public Host host(int index) {
        return servers.get(index);
    }

    /** The pid of server {@code index}'s JVM. */
    long pid(int index) {
        return processes.get(index).pid();
    }

    /** kill -9 of the server's JVM, as a host loss; returns once it is dead. */
    @Override
    public synchronized void kill(int index) {
        ChildJvm process = processes.get(index);
        if (!process.isAlive()) {
            throw new IllegalStateException("ZooKeeper server " + index + " was not running");
        }
        process.kill9();
        process.close();
        down.add(index);
    }

    /** Starts the server's JVM again on the same data; returns once its client port accepts connections. */
    @Override
    public synchronized void restart(int index) {
        if (processes.get(index).isAlive()) {
            throw new IllegalStateException("ZooKeeper server " + index + " is running");
        }
        ChildJvm process = launch(index);
        processes.set(index, process);
        down.remove(index);
        Host host = servers.get(index);
        Await.until("ZooKeeper server " + index + " on " + host + " to listen", Duration.ofSeconds(30), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("it exited: " + process.logText().strip());
            }
            return hosts.probe(Hosts.OBSERVER, host.address(), CLIENT_PORT, Duration.ofSeconds(1)) == Hosts.Reach.CONNECTED;
        });
    }

    private String logs() {
        StringBuilder text = new StringBuilder();
        for (ChildJvm p : processes) {
            String log = p.logText().strip();
            if (!log.isEmpty()) {
                text.append("--- ").append(p.name()).append(":\n")
                        .append(log, Math.max(0, log.length() - 3000), log.length()).append('\n');
            }
        }
        return text.toString();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        processes.forEach(ChildJvm::close);
        KitRun.deleteTree(directory);
        KitRun.get().unregister(this);
    }

    @Override
    public String toString() {
        return "ZkEnsemble" + servers;
    }
}
