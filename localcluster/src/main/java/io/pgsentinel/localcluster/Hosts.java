package io.pgsentinel.localcluster;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Separate hosts on one machine: a Linux network namespace per host, each with its own address
 * and port space, joined by a bridge, with real network faults (nftables inside the host
 * namespaces) and cleanup that cannot be forgotten.
 *
 * <pre>
 *   namespace pgs-&lt;pid&gt;-&lt;n&gt;-br:   br0 10.231.0.1/24 (the observer), v0 v1 ... enslaved to br0
 *   namespace pgs-&lt;pid&gt;-&lt;n&gt;-db1:  eth0 10.231.0.11/24 (veth peer of v0), lo
 *   namespace pgs-&lt;pid&gt;-&lt;n&gt;-db2:  eth0 10.231.0.12/24 (veth peer of v1), lo
 * </pre>
 *
 * <p>The machine's own namespace is never touched: the veth pairs are created inside the bridge
 * namespace, no interface, route or rule is added to the machine. The test JVM, which stays in
 * the machine's namespace, reaches the hosts through {@link HostGateway}s (see {@link #reach}):
 * the observer's gateway runs in the bridge namespace, which no fault ever cuts, like an
 * out-of-band console. Every name carries the run prefix {@code pgs-<pid of this JVM>-<n>}, so
 * concurrent runs never clash and the next run sweeps the namespaces of a JVM that died.
 * Recipe and what was measured: ../shared/TESTING.md and docs/testing.md.
 */
public final class Hosts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Hosts.class);
    /** A pseudo host name for {@link #probe} and {@link #reachFrom}: the bridge, never cut. */
    public static final String OBSERVER = "observer";
    private static final String BRIDGE = "br";
    private static final Pattern HOST_NAME = Pattern.compile("[a-z][a-z0-9]{0,19}");
    private static final Pattern RUN_NAMESPACE = Pattern.compile("pgs-(\\d+)-(\\d+)-([a-z0-9]+)");
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static String unavailable;

    private final String prefix;
    private final TestNetwork network;
    private final Path directory;
    private final Map<String, NamespaceHost> hosts = new LinkedHashMap<>();
    private final NamespaceHost observer;
    private final Gateways gateways;
    private final FaultTable faults;
    private volatile boolean closed;

    /** How a connect attempt from inside a namespace ended ({@link #probe}). */
    public enum Reach {
        CONNECTED,
        /** Refused: the host answered with a reset (nothing listens there). */
        REFUSED,
        /** No answer: the packets were dropped (a fault), or the host is frozen. */
        TIMED_OUT,
        /** No route, or another error. */
        UNREACHABLE
    }

    /** One host: its namespace and address. */
    private record NamespaceHost(Hosts hosts, String name, String namespace, String address) implements Host {
        @Override
        public List<String> wrap(List<String> command) {
            return Netns.exec(namespace, command);
        }

        @Override
        public Endpoint reach(int port) {
            return hosts.reach(address, port);
        }

        @Override
        public String toString() {
            return name + "@" + address;
        }
    }

    private Hosts(String prefix, TestNetwork network, Path directory, List<String> names) {
        this.prefix = prefix;
        this.network = network;
        this.directory = directory;
        this.observer = new NamespaceHost(this, OBSERVER, prefix + "-" + BRIDGE, network.observer());
        for (int i = 0; i < names.size(); i++) {
            hosts.put(names.get(i), new NamespaceHost(this, names.get(i), prefix + "-" + names.get(i), network.host(i)));
        }
        this.gateways = new Gateways(directory);
        // nft names take no '-'
        this.faults = new FaultTable(prefix.replace('-', '_'), directory, names, this::namespace);
    }

    /** Whether this machine can run {@link Hosts}: root, {@code ip} and {@code nft}, and a namespace can be created. */
    public static boolean available() {
        return unavailableReason().isEmpty();
    }

    /** Why {@link #available()} is false, in one line with the fix when there is one; "" when available. */
    public static synchronized String unavailableReason() {
        if (unavailable == null) {
            unavailable = checkAvailable();
        }
        return unavailable;
    }

    private static String checkAvailable() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return "network namespaces need Linux";
        }
        if (!OsUser.isRoot()) {
            return "network namespaces need root";
        }
        if (Netns.which("ip").isEmpty()) {
            return "ip not found: apt-get install -y iproute2";
        }
        if (Netns.which("nft").isEmpty()) {
            return "nft not found: apt-get install -y nftables";
        }
        String probe = "pgs-" + ProcessHandle.current().pid() + "-0-probe";
        try {
            Command.Result added = Netns.ip("netns", "add", probe);
            if (added.exitCode() != 0) {
                return "cannot create a network namespace: " + firstLine(added.output());
            }
            Command.Result nft = Command.run(Netns.exec(probe, List.of(Netns.nft(), "list", "ruleset")), Netns.TIMEOUT);
            if (nft.exitCode() != 0) {
                return "nft does not work inside a network namespace: " + firstLine(nft.output());
            }
            return "";
        } catch (RuntimeException e) {
            return "cannot create a network namespace: " + e.getMessage();
        } finally {
            Netns.ip("netns", "delete", probe);
        }
    }

    private static String firstLine(String text) {
        return text.strip().lines().findFirst().orElse("(no output)");
    }

    /**
     * Creates one namespace per host name (lowercase letters and digits, starting with a letter),
     * after sweeping the namespaces of dead runs. Host {@code i} gets address {@code .(11 + i)}.
     */
    public static Hosts create(String... hostNames) {
        List<String> names = List.of(hostNames);
        validateNames(names);
        if (!available()) {
            throw new IllegalStateException(unavailableReason());
        }
        KitRun run = KitRun.get();
        sweepDeadRuns();
        TestNetwork network = TestNetwork.choose(Netns.ip("-4", "route", "show", "table", "all").orThrow().output()
                .lines().toList());
        String prefix = "pgs-" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet();
        Hosts created = new Hosts(prefix, network, run.newDirectory("net"), names);
        run.register(created);
        try {
            created.build();
            return created;
        } catch (RuntimeException e) {
            created.close();
            throw e;
        }
    }

    private static void validateNames(List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("Hosts.create needs at least one host name");
        }
        if (names.size() > TestNetwork.MAX_HOSTS) {
            throw new IllegalArgumentException("at most " + TestNetwork.MAX_HOSTS + " hosts, got " + names.size());
        }
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!HOST_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("host name must match " + HOST_NAME.pattern() + ", got '" + name + "'");
            }
            if (name.equals(BRIDGE) || name.equals(OBSERVER)) {
                throw new IllegalArgumentException("host name '" + name + "' is reserved");
            }
            if (!seen.add(name)) {
                throw new IllegalArgumentException("host name '" + name + "' appears twice");
            }
        }
    }

    private void build() {
        String br = observer.namespace();
        Netns.add(br);
        bridgeIp("link", "set", "lo", "up");
        bridgeIp("link", "add", "br0", "type", "bridge");
        bridgeIp("addr", "add", network.observer() + "/24", "dev", "br0");
        bridgeIp("link", "set", "br0", "up");
        int i = 0;
        for (NamespaceHost host : hosts.values()) {
            String ns = host.namespace();
            String veth = "v" + i++;
            Netns.add(ns);
            // made inside the bridge namespace, its peer born in the host's: the machine never sees either end
            bridgeIp("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
            bridgeIp("link", "set", veth, "master", "br0", "up");
            Netns.ip("-n", ns, "addr", "add", host.address() + "/24", "dev", "eth0").orThrow();
            Netns.ip("-n", ns, "link", "set", "eth0", "up").orThrow();
            Netns.ip("-n", ns, "link", "set", "lo", "up").orThrow();
        }
        faults.trackConnections();
        LOG.info("kit: hosts {} on {} in namespaces {}-*", hosts.values(), network.cidr(), prefix);
    }

    private void bridgeIp(String... args) {
        List<String> command = new ArrayList<>(List.of("-n", observer.namespace()));
        command.addAll(List.of(args));
        Netns.ip(command.toArray(String[]::new)).orThrow();
    }

    /**
     * Deletes the namespaces of runs whose JVM is gone, after killing every process inside them.
     * A run's JVM is alive when a process has its pid and started before the namespace was made
     * (a later start is a recycled pid). Names not of the form {@code pgs-<pid>-<n>-<host>} are
     * never touched.
     */
    static synchronized void sweepDeadRuns() {
        long self = ProcessHandle.current().pid();
        for (String ns : Netns.list()) {
            Matcher m = RUN_NAMESPACE.matcher(ns);
            if (!m.matches()) {
                continue;
            }
            long owner = Long.parseLong(m.group(1));
            if (owner == self || ownerAlive(owner, Netns.created(ns))) {
                continue;
            }
            LOG.info("kit: sweeping namespace {} of a dead run", ns);
            Netns.killAll(ns);
            Netns.delete(ns);
        }
    }

    private static boolean ownerAlive(long pid, Optional<Instant> namespaceCreated) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty() || !Processes.isAlive(pid)) {
            return false;
        }
        Optional<Instant> started = process.get().info().startInstant();
        if (started.isEmpty() || namespaceCreated.isEmpty()) {
            return true; // cannot tell: leave it
        }
        // the two clocks are read differently: a second of slack
        return !started.get().isAfter(namespaceCreated.get().plusSeconds(1));
    }

    /** The run prefix of every name: {@code pgs-<pid>-<n>}. */
    public String prefix() {
        return prefix;
    }

    public List<String> hostNames() {
        return List.copyOf(hosts.keySet());
    }

    /** The host named {@code name}, to place processes on ({@link ChildJvm.Builder#on}). */
    public Host host(String name) {
        return require(name);
    }

    public String address(String host) {
        return require(host).address();
    }

    /** The name of {@code host}'s network namespace. */
    public String namespace(String host) {
        return require(host).namespace();
    }

    /** The observer's address on the bridge, 10.231.0.1: faults never cut it. */
    public String observerAddress() {
        return network.observer();
    }

    /** The test network, e.g. {@code 10.231.0.0/24} (for pg_hba.conf). */
    public String network() {
        return network.cidr();
    }

    /** Where the run keeps its gateway sockets and fault scripts. */
    public Path directory() {
        return directory;
    }

    /** {@code command} run inside {@code host}'s namespace: {@code ip netns exec <ns> command...}. */
    public List<String> inHost(String host, List<String> command) {
        return require(host).wrap(command);
    }

    private NamespaceHost require(String name) {
        NamespaceHost host = hosts.get(name);
        if (host == null) {
            throw new IllegalArgumentException("no host '" + name + "' in " + hosts.keySet());
        }
        return host;
    }

    private NamespaceHost requireOrObserver(String name) {
        return OBSERVER.equals(name) ? observer : require(name);
    }

    // ---- how the test JVM reaches the hosts

    /**
     * A loopback endpoint of this JVM that reaches {@code address:port} from the observer (the
     * bridge namespace, which no fault cuts): for the test's own JDBC, Curator and HTTP clients.
     * One forwarder per target, made on first use.
     */
    public Endpoint reach(String address, int port) {
        return reachFrom(OBSERVER, address, port);
    }

    /**
     * A loopback endpoint of this JVM that reaches {@code address:port} from inside {@code viaHost}:
     * the connections come from that host's address and are subject to its faults.
     */
    public Endpoint reachFrom(String viaHost, String address, int port) {
        ensureOpen();
        return gateways.reach(requireOrObserver(viaHost), address, port);
    }

    /** One TCP connect from inside {@code fromHost} (or {@link #OBSERVER}) to {@code address:port}, and how it ended. */
    public Reach probe(String fromHost, String address, int port, Duration timeout) {
        ensureOpen();
        return gateways.probe(requireOrObserver(fromHost), address, port, timeout);
    }

    // ---- faults

    /**
     * Cuts {@code host} from every other host, both ways; the observer still reaches it (the
     * test keeps watching, and reaches its servers through {@link #reach}).
     */
    public Fault isolate(String host) {
        require(host);
        Map<String, List<String>> rules = new LinkedHashMap<>();
        List<String> others = addressesExcept(List.of(host));
        if (!others.isEmpty()) {
            rules.put(host, List.of(FaultRules.dropFrom(others)));
            for (String other : hosts.keySet()) {
                if (!other.equals(host)) {
                    rules.put(other, List.of(FaultRules.dropFrom(List.of(address(host)))));
                }
            }
        }
        return apply("isolate " + host, rules);
    }

    /** Cuts {@code a} and {@code b} from each other, both ways. */
    public Fault cut(String a, String b) {
        requireDistinct(a, b);
        Map<String, List<String>> rules = new LinkedHashMap<>();
        rules.put(a, List.of(FaultRules.dropFrom(List.of(address(b)))));
        rules.put(b, List.of(FaultRules.dropFrom(List.of(address(a)))));
        return apply("cut " + a + " <-> " + b, rules);
    }

    /**
     * {@code from} can no longer reach {@code to}; {@code to} still reaches {@code from}. TCP needs
     * packets both ways, so the cut is by who connects: every packet of a connection {@code from}
     * opens to {@code to} is dropped at {@code to} (connects time out, and a connection opened
     * before the cut stalls), while the answers of {@code from} in connections {@code to} opens
     * pass (conntrack's reply direction).
     */
    public Fault cutOneWay(String from, String to) {
        requireDistinct(from, to);
        return apply("cut " + from + " -> " + to, Map.of(to, List.of(FaultRules.dropConnectionsFrom(address(from)))));
    }

    /** Every host of {@code sideA} cut from every host of {@code sideB}, both ways; hosts of a side still reach each other. */
    public Fault partition(Collection<String> sideA, Collection<String> sideB) {
        if (sideA.isEmpty() || sideB.isEmpty()) {
            throw new IllegalArgumentException("both sides of a partition need a host: " + sideA + " | " + sideB);
        }
        Set<String> both = new HashSet<>(sideA);
        both.retainAll(sideB);
        if (!both.isEmpty()) {
            throw new IllegalArgumentException("hosts " + both + " are on both sides of the partition");
        }
        Map<String, List<String>> rules = new LinkedHashMap<>();
        List<String> addressesA = sideA.stream().map(this::address).toList();
        List<String> addressesB = sideB.stream().map(this::address).toList();
        sideA.forEach(a -> rules.put(a, List.of(FaultRules.dropFrom(addressesB))));
        sideB.forEach(b -> rules.put(b, List.of(FaultRules.dropFrom(addressesA))));
        return apply("partition " + sideA + " | " + sideB, rules);
    }

    /**
     * Jepsen's majorities ring over {@code ring} (in that order): each host sees a majority, no two
     * the same. With 5 hosts host i reaches i-1, i and i+1 around the ring; in general the hosts
     * within ring distance d, the smallest with 2d + 1 &gt;= n/2 + 1 (4 hosts: all but the opposite
     * one; 6 and 7 hosts: all but the 1 or 2 farthest). Fewer than 4 hosts are rejected (no such
     * ring exists).
     */
    public Fault majoritiesRing(List<String> ring) {
        ring.forEach(this::require);
        Map<String, List<String>> rules = new LinkedHashMap<>();
        FaultRules.ringUnreachable(ring).forEach((host, far) -> {
            if (!far.isEmpty()) {
                rules.put(host, List.of(FaultRules.dropFrom(far.stream().map(this::address).toList())));
            }
        });
        return apply("majorities ring " + ring, rules);
    }

    /**
     * Drops {@code percent}% of the packets on {@code host}'s links to the other hosts, both
     * directions ({@code numgen random mod 100 < percent}, a plain drop at 100, no rule at 0); the
     * observer's traffic is spared.
     */
    public Fault lossy(String host, int percent) {
        require(host);
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("percent must be in 0..100, got " + percent);
        }
        Map<String, List<String>> rules = new LinkedHashMap<>();
        if (percent > 0) { // 0%: a fault without rules, so a test can draw the percentage freely
            rules.put(host, List.of(FaultRules.lossyFromAllBut(network.observer(), percent)));
            for (String other : hosts.keySet()) {
                if (!other.equals(host)) {
                    rules.put(other, List.of(FaultRules.lossyFrom(address(host), percent)));
                }
            }
        }
        return apply(percent + "% loss on " + host, rules);
    }

    /** The faults in force, oldest first. */
    public List<Fault> faults() {
        return faults.faults();
    }

    /** Removes every fault: the run's nft table is deleted in every host. */
    public void heal() {
        ensureOpen();
        faults.healAll();
    }

    private Fault apply(String description, Map<String, List<String>> rules) {
        ensureOpen();
        return faults.apply(description, rules);
    }

    private List<String> addressesExcept(Collection<String> excluded) {
        return hosts.values().stream().filter(h -> !excluded.contains(h.name())).map(NamespaceHost::address).toList();
    }

    private void requireDistinct(String a, String b) {
        require(a);
        require(b);
        if (a.equals(b)) {
            throw new IllegalArgumentException("a host cannot be cut from itself: " + a);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("hosts " + prefix + " are closed");
        }
    }

    /** The names of this run's namespaces that exist now. */
    public List<String> namespaces() {
        return Netns.named(prefix + "-").toList();
    }

    /**
     * Stops the forwarders and gateways, kills every process still running inside the run's
     * namespaces (servers placed on the hosts included), and deletes the namespaces (their veth
     * ends and nft tables go with them).
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        gateways.close();
        faults.close();
        List<String> namespaces = new ArrayList<>();
        hosts.values().forEach(h -> namespaces.add(h.namespace()));
        namespaces.add(observer.namespace());
        for (String ns : namespaces) {
            try {
                Netns.killAll(ns);
                Netns.delete(ns);
            } catch (RuntimeException | AssertionError e) {
                LOG.warn("kit: could not remove namespace {}: {}", ns, e.toString());
            }
        }
        KitRun.deleteTree(directory);
        KitRun.get().unregister(this);
    }

    @Override
    public String toString() {
        return "Hosts[" + prefix + " " + hosts.values() + "]";
    }
}
