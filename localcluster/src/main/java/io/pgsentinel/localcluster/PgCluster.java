package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL primary with streaming replicas on free loopback ports, in a directory
 * of the {@link KitRun}, run as the {@code postgres} OS user when the tests run as root.
 * Recipe and timings: ../shared/TESTING.md. Close it (or let the JVM exit) to stop
 * everything and delete its files.
 *
 * <p>{@link Builder#onHosts} puts each server on a host of {@link Hosts} instead: its own
 * network namespace, listening on the host's address at port 5432 (each host has its own port
 * space, like a real machine), replicas cloned and streaming over the host addresses.
 */
public final class PgCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgCluster.class);
    private static final Duration BASEBACKUP_TIMEOUT = Duration.ofSeconds(120);
    private static Path template;

    /** The port of every server on a host: each host has its own port space. */
    public static final int HOST_PORT = 5432;

    private final PgInstall install;
    private final Path directory;
    private final Path socketDirectory;
    /** Null on loopback. */
    private final Hosts hosts;
    private final List<PgNode> nodes = new ArrayList<>();
    private volatile boolean closed;

    private PgCluster(PgInstall install, Path directory, Hosts hosts) {
        this.install = install;
        this.directory = directory;
        this.socketDirectory = directory.resolve("s");
        this.hosts = hosts;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings for fast tests; every one can be overridden through {@link Builder#setting}. */
    public static Map<String, String> defaultSettings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("listen_addresses", "'127.0.0.1'");
        settings.put("wal_level", "replica");
        settings.put("max_wal_senders", "10");
        settings.put("max_replication_slots", "10");
        settings.put("hot_standby", "on");
        settings.put("wal_log_hints", "on"); // pg_rewind needs it
        settings.put("fsync", "off"); // tests only: no durability across a host crash is claimed here
        settings.put("shared_buffers", "32MB");
        settings.put("max_connections", "60");
        settings.put("wal_receiver_status_interval", "1s");
        // a replica whose upstream went away retries every 0.5 s instead of 5 s
        settings.put("wal_retrieve_retry_interval", "500ms");
        settings.put("wal_receiver_timeout", "10s");
        settings.put("wal_sender_timeout", "10s");
        // pg_rewind needs the WAL since the fork on the new primary, whose checkpoints would recycle it
        // (docs/operations.md recommends the same)
        settings.put("wal_keep_size", "256MB");
        settings.put("log_min_messages", "warning");
        settings.put("log_line_prefix", "'%m [%p] '");
        return settings;
    }

    public static final class Builder {
        private int replicas = 2;
        private boolean replicasSet;
        private boolean empty;
        private Hosts hosts;
        private List<String> hostNames;
        private final Map<String, String> settings = defaultSettings();

        public Builder replicas(int count) {
            if (count < 0) {
                throw new IllegalArgumentException("replicas must be >= 0, got " + count);
            }
            this.replicas = count;
            this.replicasSet = true;
            return this;
        }

        /**
         * One server per host, each node named after its host: the first is the primary, the
         * others its replicas ({@code onHosts(hosts, List.of("db1", "db2", "db3"))}: primary
         * {@code db1}, replicas {@code db2} and {@code db3}). Each listens on its host's address,
         * port {@link #HOST_PORT}; pg_hba.conf trusts the test network for normal and replication
         * connections.
         */
        /**
         * No server at all: the nodes (primary and replicas by name) get no data directory, for a
         * failover manager that creates the cluster itself ({@code bootstrap.method: initdb}).
         */
        public Builder empty() {
            this.empty = true;
            return this;
        }

        public Builder onHosts(Hosts hosts, List<String> hostNames) {
            if (hostNames.isEmpty()) {
                throw new IllegalArgumentException("onHosts needs at least one host for the primary");
            }
            if (new java.util.HashSet<>(hostNames).size() != hostNames.size()) {
                throw new IllegalArgumentException("onHosts: a host appears twice in " + hostNames);
            }
            hostNames.forEach(hosts::host); // each must exist
            this.hosts = hosts;
            this.hostNames = List.copyOf(hostNames);
            return this;
        }

        /** A postgresql.conf setting, value as written in the file (quote strings). */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /**
         * Starts the primary ({@code node1}, or the first host) and the replicas ({@code node2}...,
         * or the other hosts), and waits until all stream.
         */
        public PgCluster start() {
            List<String> names = new ArrayList<>();
            if (hosts == null) {
                for (int i = 1; i <= replicas + 1; i++) {
                    names.add("node" + i);
                }
            } else {
                if (replicasSet && replicas != hostNames.size() - 1) {
                    throw new IllegalArgumentException("replicas(" + replicas + ") contradicts onHosts" + hostNames
                            + ": one primary and " + (hostNames.size() - 1) + " replicas");
                }
                names.addAll(hostNames);
            }
            PgInstall install = PgInstall.find();
            KitRun run = KitRun.get();
            PgCluster cluster = new PgCluster(install, run.newDirectory("pg"), hosts);
            run.register(cluster);
            try {
                if (empty) {
                    OsUser.chownToServerUser(cluster.directory);
                    names.forEach(cluster::addEmptyNode);
                    return cluster;
                }
                cluster.createPrimary(names.get(0), settings);
                for (String name : names.subList(1, names.size())) {
                    cluster.addReplica(name, cluster.nodes.get(0));
                }
                cluster.awaitAllStreaming(Duration.ofSeconds(60));
                return cluster;
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
        }
    }

    public PgInstall install() {
        return install;
    }

    public Path directory() {
        return directory;
    }

    /** The node created as primary; after a failover in a test, ask the servers who leads. */
    public PgNode primary() {
        return nodes.get(0);
    }

    /** The nodes created as replicas. */
    public List<PgNode> replicas() {
        return List.copyOf(nodes.subList(1, nodes.size()));
    }

    public List<PgNode> nodes() {
        return List.copyOf(nodes);
    }

    public PgNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name + " in " + nodes));
    }

    /**
     * Clones {@code upstream} into a new streaming replica named {@code name} with a physical
     * replication slot of the same name, starts it, and returns it. On hosts, {@code name} is the
     * host the replica runs on, and the clone is made from there over the upstream's address.
     */
    public synchronized PgNode addReplica(String name, PgNode upstream) {
        PgNode node = newNode(name);
        List<String> basebackup = List.of(install.bin("pg_basebackup").toString(),
                "-h", upstream.host(), "-p", Integer.toString(upstream.port()), "-U", "postgres",
                "-D", node.dataDirectory().toString(), "-R", "-X", "stream", "-C", "-S", name,
                "-c", "fast", "--no-sync");
        Command.run(node.runsOn().wrap(Command.as(OsUser.serverUser(), basebackup)), BASEBACKUP_TIMEOUT, directory)
                .orThrow();
        // -R writes application_name=walreceiver; name the replica so pg_stat_replication shows it
        node.appendAutoConf("primary_conninfo = '" + conninfo(upstream, name) + "'");
        node.appendAutoConf("primary_slot_name = '" + name + "'");
        node.start();
        nodes.add(node);
        return node;
    }

    /**
     * A node with no data directory and no server yet: a new host for the failover manager to
     * clone a replica onto. Its directory's parent belongs to the server user, as on a new host.
     */
    public synchronized PgNode addEmptyNode(String name) {
        PgNode node = newNode(name);
        nodes.add(node);
        return node;
    }

    /** The libpq connection string a replica named {@code applicationName} uses to reach {@code upstream}. */
    public static String conninfo(PgNode upstream, String applicationName) {
        return "host=" + upstream.host() + " port=" + upstream.port() + " user=postgres application_name=" + applicationName;
    }

    /** Waits until the created primary sees every running created replica streaming. */
    public void awaitAllStreaming(Duration timeout) {
        int expected = nodes.size() - 1;
        Await.until(expected + " replicas streaming from " + primary(), timeout, () -> Integer.parseInt(
                primary().query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) == expected);
    }

    private void createPrimary(String name, Map<String, String> settings) {
        PgNode primary = newNode(name);
        Path source = template(install);
        Command.run(List.of("cp", "-a", source.toString(), primary.dataDirectory().toString()),
                Duration.ofSeconds(60)).orThrow();
        StringBuilder conf = new StringBuilder("\n# pg-sentinel test kit\n");
        settings.forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
        if (hosts == null) {
            conf.append("unix_socket_directories = '").append(socketDirectory).append("'\n");
        } else {
            // every node of the cluster reads this file (pg_basebackup and pg_rewind copy it): on a host
            // each listens on its own address, and needs no socket (everything connects over TCP)
            conf.append("listen_addresses = '*'\nunix_socket_directories = ''\n");
        }
        try {
            Files.createDirectories(socketDirectory);
            OsUser.chownToServerUser(directory);
            Files.writeString(primary.dataDirectory().resolve("postgresql.conf"), conf, StandardCharsets.UTF_8,
                    StandardOpenOption.APPEND);
            if (hosts != null) {
                // initdb's pg_hba.conf trusts only local connections; the kit's servers trust everyone
                Files.writeString(primary.dataDirectory().resolve("pg_hba.conf"), "\n# pg-sentinel test kit: the test network\n"
                        + "host all all " + hosts.network() + " trust\n"
                        + "host replication all " + hosts.network() + " trust\n", StandardCharsets.UTF_8,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        primary.start();
        nodes.add(primary);
    }

    private PgNode newNode(String name) {
        if (nodes.stream().anyMatch(n -> n.name().equals(name))) {
            throw new IllegalArgumentException("node " + name + " already exists");
        }
        if (hosts == null) {
            return new PgNode(install, name, Host.LOOPBACK, Ports.free(), directory.resolve(name),
                    directory.resolve(name + ".log"), socketDirectory);
        }
        // every server listens on 5432, so each needs its own socket directory (short: 107 bytes at most)
        Path sockets = directory.resolve("s" + (nodes.size() + 1));
        try {
            Files.createDirectories(sockets);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        OsUser.chownToServerUser(sockets);
        return new PgNode(install, name, hosts.host(name), HOST_PORT, directory.resolve(name),
                directory.resolve(name + ".log"), sockets);
    }

    /** One initdb per JVM; each cluster copies it (faster than initdb each time). */
    private static synchronized Path template(PgInstall install) {
        if (template == null) {
            Path dir = KitRun.get().newDirectory("template");
            Path data = dir.resolve("data");
            OsUser.chownToServerUser(dir);
            long start = System.nanoTime();
            Command.run(Command.as(OsUser.serverUser(), List.of(install.bin("initdb").toString(),
                    "-D", data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync")), Duration.ofSeconds(120), dir).orThrow();
            LOG.info("kit: initdb of the template took {} ms", (System.nanoTime() - start) / 1_000_000);
            template = data;
        }
        return template;
    }

    /** Stops every server (thawing frozen ones first) and deletes the cluster's files. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (PgNode node : nodes) {
            try {
                if (node.isRunning()) {
                    node.kill9();
                }
            } catch (RuntimeException e) {
                LOG.warn("kit: could not stop {}: {}", node, e.toString());
            }
        }
        // servers started outside this object (a sentinel's rejoin) still name our directory
        for (long pid : Processes.withCommandLineContaining(directory + "/")) {
            Processes.killTree(pid, Duration.ofSeconds(10));
        }
        KitRun.deleteTree(directory);
        KitRun.get().unregister(this);
    }

    @Override
    public String toString() {
        return "PgCluster" + nodes;
    }
}
