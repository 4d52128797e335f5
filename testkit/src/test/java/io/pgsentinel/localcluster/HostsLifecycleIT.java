package io.pgsentinel.localcluster;

import io.pgsentinel.testkit.Stats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgsentinel.localcluster.Hosts.Reach;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Creating many hosts, the majorities ring, and the cleanup: at close, and of a dead run's namespaces. */
class HostsLifecycleIT {

    @BeforeAll
    static void onlyWhereNamespacesWork() {
        assumeTrue(Hosts.available(), Hosts.unavailableReason());
    }

    @Test
    void sevenHostsAreCreatedAndAMajoritiesRingOfFiveGivesEachADifferentMajority() throws Exception {
        long t0 = System.nanoTime();
        Hosts hosts = Hosts.create("h1", "h2", "h3", "h4", "h5", "h6", "h7");
        long created = (System.nanoTime() - t0) / 1_000_000;
        Stats.record("hosts.txt", "Hosts.create of 7 hosts: " + created + " ms");
        String prefix = hosts.prefix();
        try {
            assertThat(hosts.namespaces()).hasSize(8); // 7 hosts and the bridge
            List<String> ring = List.of("h1", "h2", "h3", "h4", "h5");
            hosts.majoritiesRing(ring);
            // nothing listens on port 9: refused means the packets flowed, a timeout that they were dropped
            ExecutorService pool = Executors.newFixedThreadPool(5);
            try {
                List<Future<Reach>> results = new ArrayList<>();
                for (String from : ring) {
                    for (String to : ring) {
                        results.add(pool.submit(() -> hosts.probe(from, hosts.address(to), 9, Duration.ofMillis(700))));
                    }
                }
                List<Set<String>> majorities = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    Set<String> seen = new java.util.TreeSet<>();
                    for (int j = 0; j < 5; j++) {
                        Reach reach = results.get(i * 5 + j).get();
                        int distance = Math.min(Math.abs(i - j), 5 - Math.abs(i - j));
                        assertThat(reach).as(ring.get(i) + " -> " + ring.get(j))
                                .isEqualTo(distance <= 1 ? Reach.REFUSED : Reach.TIMED_OUT);
                        if (reach == Reach.REFUSED) {
                            seen.add(ring.get(j));
                        }
                    }
                    assertThat(seen).hasSize(3);
                    majorities.add(seen);
                }
                assertThat(Set.copyOf(majorities)).as("five different majorities").hasSize(5);
                // h6 and h7 are out of the ring: untouched
                assertThat(hosts.probe("h6", hosts.address("h1"), 9, Duration.ofMillis(700))).isEqualTo(Reach.REFUSED);
            } finally {
                pool.shutdownNow();
            }
        } finally {
            long t1 = System.nanoTime();
            hosts.close();
            System.out.println("Hosts.close of 7 hosts: " + (System.nanoTime() - t1) / 1_000_000 + " ms");
        }
        assertThat(Netns.list()).noneMatch(ns -> ns.startsWith(prefix + "-"));
    }

    @Test
    void closeKillsEveryProcessInTheNamespacesAndDeletesThem() {
        Hosts hosts = Hosts.create("solo");
        String prefix = hosts.prefix();
        // a process the kit does not track, started inside the namespace
        Process stray = start(hosts.inHost("solo", List.of("sleep", "600")));
        Await.until("the stray process to run in the namespace", Duration.ofSeconds(10),
                () -> Netns.pids(hosts.namespace("solo")).contains(stray.pid()));
        hosts.probe(Hosts.OBSERVER, hosts.address("solo"), 9, Duration.ofSeconds(1)); // starts the observer's gateway
        List<Long> inBridge = Netns.pids(prefix + "-br");
        assertThat(inBridge).hasSize(1);

        hosts.close();

        assertThat(Netns.list()).noneMatch(ns -> ns.startsWith(prefix + "-"));
        Await.until("the stray process to be dead", Duration.ofSeconds(10), () -> !Processes.isAlive(stray.pid()));
        assertThat(inBridge).noneMatch(Processes::isAlive);
    }

    @Test
    void theNamespacesOfADeadRunAreSweptByTheNextCreateAndOthersAreLeftAlone() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        long deadPid = gone.pid();
        assumeTrue(!Processes.isAlive(deadPid), "the pid was reused at once");
        String deadPrefix = "pgs-" + deadPid + "-1";
        String notOurs = "pgsx-" + ProcessHandle.current().pid() + "-keep";
        List<String> leftovers = List.of(deadPrefix + "-br", deadPrefix + "-db1");
        leftovers.forEach(Netns::add);
        Netns.add(notOurs);
        Process orphan = start(Netns.exec(deadPrefix + "-db1", List.of("sleep", "600")));
        try {
            Await.until("the orphan to run in the dead run's namespace", Duration.ofSeconds(10),
                    () -> Netns.pids(deadPrefix + "-db1").contains(orphan.pid()));

            try (Hosts hosts = Hosts.create("fresh")) {
                assertThat(Netns.list()).doesNotContainAnyElementsOf(leftovers).contains(notOurs);
                Await.until("the orphan to be killed", Duration.ofSeconds(10), () -> !Processes.isAlive(orphan.pid()));
                assertThat(hosts.namespaces()).hasSize(2);
            }
        } finally {
            orphan.destroyForcibly();
            for (String ns : leftovers) {
                Netns.delete(ns);
            }
            Netns.delete(notOurs);
        }
    }

    private static Process start(List<String> command) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
