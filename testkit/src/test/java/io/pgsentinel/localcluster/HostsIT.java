package io.pgsentinel.localcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgsentinel.localcluster.Hosts.Reach;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hosts as network namespaces, and each network fault for real, seen from inside the hosts
 * (the gateways' probes) and through listeners placed on them. A probe either connects (or
 * is refused: the packets flowed), or times out: a dropped packet never gives a reset.
 */
class HostsIT {
    private static final int PORT = 7000;
    /** Long enough for a SYN and its answer between namespaces; a dropped one never answers. */
    private static final Duration PROBE = Duration.ofMillis(700);
    private static Hosts hosts;
    private static final List<ChildJvm> listeners = new ArrayList<>();
    private static RootNamespace rootBefore;

    /** What the machine's own namespace looks like: it must be the same after the run. */
    record RootNamespace(String routes, String links, String ruleset) {
        static RootNamespace now() {
            return new RootNamespace(run("ip", "route"), run("ip", "-br", "link"), run("nft", "list", "ruleset"));
        }

        private static String run(String... command) {
            return Command.run(List.of(command), Duration.ofSeconds(10)).orThrow().output();
        }
    }

    @BeforeAll
    static void start() {
        assumeTrue(Hosts.available(), Hosts.unavailableReason());
        rootBefore = RootNamespace.now();
        hosts = Hosts.create("a", "b", "c");
        for (String host : hosts.hostNames()) {
            listeners.add(ChildJvm.builder("listener-" + host, NetPrograms.Listener.class.getName())
                    .on(hosts.host(host)).jvmArg("-Xmx32m").args(Integer.toString(PORT)).start());
        }
        for (String host : hosts.hostNames()) {
            Await.until("listener on " + host, Duration.ofSeconds(30),
                    () -> hosts.probe(Hosts.OBSERVER, hosts.address(host), PORT, PROBE) == Reach.CONNECTED);
        }
    }

    @AfterEach
    void heal() {
        if (hosts != null) {
            hosts.heal();
        }
    }

    @AfterAll
    static void stop() {
        if (hosts == null) {
            return;
        }
        String prefix = hosts.prefix();
        List<Long> pids = listeners.stream().map(ChildJvm::pid).toList();
        hosts.close();
        assertThat(Netns.list()).noneMatch(ns -> ns.startsWith(prefix + "-"));
        assertThat(pids).noneMatch(Processes::isAlive);
        listeners.forEach(ChildJvm::close);
        assertThat(RootNamespace.now()).as("the machine's own namespace").isEqualTo(rootBefore);
    }

    private static Reach probe(String from, String to) {
        return hosts.probe(from, hosts.address(to), PORT, PROBE);
    }

    @Test
    void eachHostHasItsAddressAndTheHostsReachEachOther() throws Exception {
        String network = hosts.network();
        assertThat(network).matches("10\\.23\\d\\.0\\.0/24");
        String base = network.substring(0, network.length() - "0/24".length());
        assertThat(hosts.observerAddress()).isEqualTo(base + "1");
        assertThat(hosts.hostNames()).containsExactly("a", "b", "c");
        for (int i = 0; i < 3; i++) {
            String host = hosts.hostNames().get(i);
            assertThat(hosts.address(host)).isEqualTo(base + (11 + i));
            assertThat(Command.run(hosts.inHost(host, List.of("ip", "-4", "-br", "addr", "show", "eth0")),
                    Duration.ofSeconds(10)).orThrow().output()).contains(hosts.address(host) + "/24");
            assertThat(hosts.namespace(host)).isEqualTo(hosts.prefix() + "-" + host);
        }
        assertThat(hosts.prefix()).matches("pgs-" + ProcessHandle.current().pid() + "-\\d+");
        for (String from : hosts.hostNames()) {
            for (String to : hosts.hostNames()) {
                assertThat(probe(from, to)).as(from + " -> " + to).isEqualTo(Reach.CONNECTED);
            }
        }
        // a TCP connection from inside a, to b's listener: b sees a's address
        assertThat(NetPrograms.askListener(hosts.reachFrom("a", hosts.address("b"), PORT))).isEqualTo(hosts.address("a"));
        // the test JVM's own way in comes from the observer
        assertThat(NetPrograms.askListener(hosts.reach(hosts.address("c"), PORT))).isEqualTo(hosts.observerAddress());
        // nothing listens: refused, which shows the packets flow both ways
        assertThat(hosts.probe("a", hosts.address("b"), 9, PROBE)).isEqualTo(Reach.REFUSED);
    }

    @Test
    void isolateCutsAHostFromEveryPeerBothWaysButNotFromTheObserver() throws Exception {
        Fault fault = hosts.isolate("a");
        assertThat(probe("b", "a")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("c", "a")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("a", "b")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "c")).isEqualTo(Reach.CONNECTED);
        assertThat(probe(Hosts.OBSERVER, "a")).isEqualTo(Reach.CONNECTED);
        assertThat(NetPrograms.askListener(hosts.reach(hosts.address("a"), PORT))).isEqualTo(hosts.observerAddress());
        assertThat(described(fault).isActive()).isTrue();

        hosts.heal();

        assertThat(fault.isActive()).isFalse();
        assertThat(probe("b", "a")).isEqualTo(Reach.CONNECTED);
        assertThat(probe("a", "b")).isEqualTo(Reach.CONNECTED);
    }

    @Test
    void cutIsBothWaysBetweenTwoHostsOnlyAndHealsAlone() {
        Fault fault = hosts.cut("a", "b");
        assertThat(probe("a", "b")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "a")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("a", "c")).isEqualTo(Reach.CONNECTED);
        assertThat(probe("c", "b")).isEqualTo(Reach.CONNECTED);

        fault.heal();

        assertThat(hosts.faults()).isEmpty();
        assertThat(probe("a", "b")).isEqualTo(Reach.CONNECTED);
        assertThat(probe("b", "a")).isEqualTo(Reach.CONNECTED);
    }

    @Test
    void oneWayCutStopsConnectionsFromOneSideOnly() throws Exception {
        hosts.cutOneWay("a", "b");
        assertThat(probe("a", "b")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "a")).isEqualTo(Reach.CONNECTED);
        // b's connection to a's listener works both ways: a's answer reaches b
        assertThat(NetPrograms.askListener(hosts.reachFrom("b", hosts.address("a"), PORT))).isEqualTo(hosts.address("b"));
        assertThat(probe("a", "c")).isEqualTo(Reach.CONNECTED);
    }

    /**
     * A connection opened before the cut, a's to b: a one-way cut a -> b stops it too, whichever
     * side spoke first since (conntrack follows it from its start, not from the cut).
     */
    @Test
    void oneWayCutStopsAConnectionOpenedBeforeIt() throws Exception {
        try (ChildJvm echo = ChildJvm.builder("echo-b", NetPrograms.Echo.class.getName()).on(hosts.host("b"))
                .jvmArg("-Xmx32m").args("7001").start()) {
            Await.until("the echo server on b", Duration.ofSeconds(30),
                    () -> hosts.probe("a", hosts.address("b"), 7001, PROBE) == Reach.CONNECTED);
            Endpoint viaA = hosts.reachFrom("a", hosts.address("b"), 7001);
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(viaA.host(), viaA.port()), 5000);
                s.setSoTimeout(2000);
                s.getOutputStream().write('x');
                assertThat(s.getInputStream().read()).isEqualTo('x');
                hosts.cutOneWay("a", "b");
                s.getOutputStream().write('y');
                assertThatThrownBy(() -> s.getInputStream().read()).as("nothing crosses the cut")
                        .isInstanceOf(java.net.SocketTimeoutException.class);
            }
        }
    }

    @Test
    void partitionCutsEveryHostOfOneSideFromEveryHostOfTheOther() {
        hosts.partition(List.of("a"), List.of("b", "c"));
        assertThat(probe("a", "b")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("a", "c")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "a")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("c", "a")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "c")).isEqualTo(Reach.CONNECTED);
        assertThat(probe("c", "b")).isEqualTo(Reach.CONNECTED);
        assertThat(probe(Hosts.OBSERVER, "a")).isEqualTo(Reach.CONNECTED);

        assertThatThrownBy(() -> hosts.partition(List.of("a", "b"), List.of("b")))
                .hasMessageContaining("on both sides");
    }

    @Test
    void lossyDropsAllNoneOrSomeOfAHostsPackets() throws Exception {
        Fault all = hosts.lossy("a", 100);
        assertThat(probe("b", "a")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("a", "b")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "c")).isEqualTo(Reach.CONNECTED);
        assertThat(probe(Hosts.OBSERVER, "a")).isEqualTo(Reach.CONNECTED);
        all.heal();

        Fault none = hosts.lossy("a", 0);
        for (int i = 0; i < 10; i++) {
            assertThat(probe("b", "a")).isEqualTo(Reach.CONNECTED);
        }
        none.heal();

        // 30% each way: a connect (SYN and its answer, no retry within the timeout) succeeds about
        // half the time; of 40, some succeed and some fail with near certainty (0.51^40, 0.49^40)
        hosts.lossy("a", 30);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Reach>> results = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                results.add(pool.submit(() -> probe("b", "a")));
            }
            int connected = 0;
            for (Future<Reach> r : results) {
                connected += r.get() == Reach.CONNECTED ? 1 : 0;
            }
            System.out.println("30% loss each way: " + connected + " of 40 connects succeeded");
            assertThat(connected).isBetween(1, 39);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void faultsComposeAndHealOneByOne() {
        Fault cut = hosts.cut("a", "b");
        Fault lossy = hosts.lossy("c", 100);
        assertThat(hosts.faults()).containsExactly(cut, lossy);
        assertThat(probe("a", "b")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("b", "c")).isEqualTo(Reach.TIMED_OUT);
        assertThat(probe("a", "c")).isEqualTo(Reach.TIMED_OUT);

        cut.heal();

        assertThat(probe("a", "b")).isEqualTo(Reach.CONNECTED);
        assertThat(probe("b", "c")).isEqualTo(Reach.TIMED_OUT);
        assertThat(hosts.faults()).containsExactly(lossy);
        lossy.heal();
        assertThat(probe("b", "c")).isEqualTo(Reach.CONNECTED);
    }

    @Test
    void aChildJvmOnAHostHasTheHostsAddressAndFreezeThawKillActOnTheJvm() {
        ChildJvm client = ChildJvm.builder("client", NetPrograms.Client.class.getName())
                .on(hosts.host("c")).jvmArg("-Xmx32m").args(hosts.address("b"), Integer.toString(PORT)).start();
        try {
            Await.until("the client to be seen as c", Duration.ofSeconds(30),
                    () -> client.logText().contains("seen as " + hosts.address("c") + " "));
            // ip netns exec replaced itself with the JVM: the pid is the JVM's, inside c's namespace
            String commandLine = Processes.commandLine(client.pid());
            assertThat(commandLine).startsWith(ProcessHandle.current().info().command().orElse("java"))
                    .contains(NetPrograms.Client.class.getName())
                    .contains(KitRun.marker(KitRun.get().dir()));
            assertThat(Netns.pids(hosts.namespace("c"))).contains(client.pid());
            assertThat(client.runsOn()).isEqualTo(hosts.host("c"));

            client.freeze();
            Await.until("the client to be stopped", Duration.ofSeconds(5), client::isFrozen);
            int lines = client.logText().length();
            client.thaw();
            Await.until("the client to run again", Duration.ofSeconds(10), () -> client.logText().length() > lines);

            client.kill9();
            assertThat(client.isAlive()).isFalse();
            assertThat(Netns.pids(hosts.namespace("c"))).doesNotContain(client.pid());
        } finally {
            client.close();
        }
    }

    @Test
    void hostNamesAreCheckedBeforeAnythingIsCreated() {
        assertThatThrownBy(() -> Hosts.create("a", "a")).hasMessageContaining("twice");
        assertThatThrownBy(() -> Hosts.create("br")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> Hosts.create("Db-1")).hasMessageContaining("must match");
        assertThatThrownBy(() -> hosts.cut("a", "a")).hasMessageContaining("itself");
        assertThatThrownBy(() -> hosts.isolate("zz")).hasMessageContaining("no host 'zz'");
        assertThatThrownBy(() -> hosts.lossy("a", 101)).hasMessageContaining("0..100");
        assertThatThrownBy(() -> hosts.majoritiesRing(List.of("a", "b", "c"))).hasMessageContaining("at least 4");
    }

    private static Fault described(Fault fault) {
        assertThat(fault.description()).isNotBlank();
        assertThat(fault.rulesByHost()).isNotEmpty().allSatisfy((host, rules) -> assertThat(rules).isNotEmpty());
        return fault;
    }
}
