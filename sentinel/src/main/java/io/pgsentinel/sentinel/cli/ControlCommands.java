package io.pgsentinel.sentinel.cli;

import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.setup.Bootstrap;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.decision.SwitchoverCheck;
import io.pgsentinel.sentinel.zk.OperatorRequests;
import io.pgsentinel.shared.topology.Topology;
import java.time.Duration;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/** {@code pause}, {@code resume} and {@code switchover}: operator requests written to ZooKeeper. */
public final class ControlCommands {
    /** Exit code of a refused request (unknown candidate, not streaming, already running...). */
    static final int EXIT_REFUSED = 4;
    /** Exit code of a switchover that was rolled back or did not finish in time. */
    static final int EXIT_FAILED = 5;

    private ControlCommands() {
    }

    /** {@code pause config.yml}: no automatic failover until resumed. */
    public static final class Pause extends ConfiguredCommand<SentinelConfiguration> {
        public Pause() {
            super("pause", "Pause automatic failover (maintenance); planned switchovers stay possible");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            setPaused(c, true);
        }
    }

    /** {@code resume config.yml}. */
    public static final class Resume extends ConfiguredCommand<SentinelConfiguration> {
        public Resume() {
            super("resume", "Resume automatic failover");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            setPaused(c, false);
        }
    }

    private static void setPaused(SentinelConfiguration c, boolean paused) {
        CliMain.exit(() -> {
            try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                new OperatorRequests(reader.session, Duration.ofSeconds(5)).setPaused(paused, "cli");
                System.out.println(paused ? "Automatic failover is paused for cluster " + c.cluster + "."
                        : "Automatic failover is resumed for cluster " + c.cluster + ".");
                return 0;
            }
        });
    }

    /** {@code switchover config.yml [--to node3] [--wait 60s]}: asks for a planned switchover and follows it. */
    public static final class Switchover extends ConfiguredCommand<SentinelConfiguration> {
        public Switchover() {
            super("switchover", "Planned, zero-loss switchover to a replica (the best one unless --to names it)");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("--to").dest("to").help("the node to promote (default: the best candidate)");
            subparser.addArgument("--wait").dest("wait").setDefault("60").help("seconds to wait for the outcome");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                String to = n.getString("to");
                long waitSeconds;
                try {
                    waitSeconds = Long.parseLong(n.getString("wait"));
                } catch (NumberFormatException e) {
                    throw new CliFailure(1, "--wait must be a number of seconds");
                }
                try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                    Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
                    SwitchoverCheck.Verdict v = SwitchoverCheck.check(t, reader.cache.nodes(), reader.cache.members(), to,
                            reader.cache.document("switchover").isPresent(), false);
                    if (!v.accepted()) {
                        throw new CliFailure(EXIT_REFUSED, "switchover refused: " + v.refusal());
                    }
                    var r = new OperatorRequests(reader.session, Duration.ofSeconds(5)).requestSwitchover(v.candidate(), "cli");
                    if (!r.created()) {
                        throw new CliFailure(EXIT_REFUSED, "switchover refused: one is already requested or running");
                    }
                    System.out.println("Switchover from " + t.primary().id() + " to " + v.candidate() + " requested ("
                            + r.id() + "); waiting for it...");
                    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
                    // our own copy of ZooKeeper must first see the request we just wrote
                    while (!reader.cache.document("switchover").isPresent()
                            && reader.cache.topology().map(x -> x.topology().epoch()).orElse(0L) == t.epoch()
                            && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    while (System.nanoTime() < deadline) {
                        Topology now = reader.cache.topology().map(x -> x.topology()).orElse(null);
                        boolean pending = reader.cache.document("switchover").isPresent();
                        if (now != null && now.epoch() > t.epoch() && now.primary().id().equals(v.candidate())) {
                            System.out.println("Done: " + v.candidate() + " is the primary (epoch " + now.epoch() + ").");
                            return 0;
                        }
                        if (!pending) {
                            Topology read = reader.topologyNow(Duration.ofSeconds(5));
                            if (read.epoch() > t.epoch() && read.primary().id().equals(v.candidate())) {
                                System.out.println("Done: " + v.candidate() + " is the primary (epoch " + read.epoch()
                                        + ").");
                                return 0;
                            }
                            throw new CliFailure(EXIT_FAILED, "the switchover did not happen"
                                    + outcome(reader, System.nanoTime() + Duration.ofSeconds(3).toNanos()));
                        }
                        Thread.sleep(200);
                    }
                    throw new CliFailure(EXIT_FAILED, "no outcome within " + waitSeconds + " s: see `status`");
                }
            });
        }

        /**
         * Why the request ended: the leader records the outcome in its decision right after it
         * removes the request, so this waits briefly for a decision that names it.
         */
        private static String outcome(ClusterReader reader, long deadline) throws InterruptedException {
            var d = reader.decision();
            while ((d == null || !d.reason().contains("last takeover")) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                d = reader.decision();
            }
            return d == null ? "" : ": " + d.reason();
        }
    }

    /** {@code reinit config.yml NODE [--wait 600]}: re-clones one replica and follows it until it streams again. */
    public static final class Reinit extends ConfiguredCommand<SentinelConfiguration> {
        public Reinit() {
            super("reinit", "Re-clone one replica from the primary (its old data directory is kept once)");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("node").help("the replica to re-clone");
            subparser.addArgument("--wait").dest("wait").setDefault("600").help("seconds to wait for it to stream again");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                String node = n.getString("node");
                long waitSeconds;
                try {
                    waitSeconds = Long.parseLong(n.getString("wait"));
                } catch (NumberFormatException e) {
                    throw new CliFailure(1, "--wait must be a number of seconds");
                }
                try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                    Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
                    var refusal = io.pgsentinel.sentinel.decision.ReinitCheck.check(t, reader.cache.nodes(), node,
                            reader.cache.document("reinit/" + node).isPresent());
                    if (refusal != null) {
                        throw new CliFailure(EXIT_REFUSED, "reinit refused: " + refusal.reason());
                    }
                    var r = new OperatorRequests(reader.session, Duration.ofSeconds(5)).requestReinit(node, "cli");
                    if (!r.created()) {
                        throw new CliFailure(EXIT_REFUSED, "reinit refused: one is already requested for " + node);
                    }
                    System.out.println("Reinit of " + node + " requested (" + r.id() + "); waiting for it...");
                    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
                    while (!reader.cache.document("reinit/" + node).isPresent() && System.nanoTime() < deadline) {
                        Thread.sleep(50); // our own copy of ZooKeeper must first see the request we wrote
                    }
                    String shown = "";
                    while (System.nanoTime() < deadline) {
                        var report = reader.cache.members().get(node);
                        String doing = report == null ? "its sentinel is not running" : report.state();
                        if (!doing.equals(shown)) {
                            System.out.println(node + ": " + doing);
                            shown = doing;
                        }
                        boolean pending = reader.cache.document("reinit/" + node).isPresent();
                        boolean streaming = reader.cache.topology().flatMap(v -> v.topology().replica(node))
                                .map(x -> x.state().json().equals("streaming")).orElse(false);
                        if (!pending && streaming && report != null && "ok".equals(report.state()) && report.isStreaming()) {
                            System.out.println("Done: " + node + " is a fresh clone, streaming.");
                            return 0;
                        }
                        Thread.sleep(200);
                    }
                    throw new CliFailure(EXIT_FAILED, "no outcome within " + waitSeconds + " s: see `status` and the "
                            + "sentinel's log on " + node);
                }
            });
        }
    }

    /** {@code remove config.yml NODE [--wait 60]}: takes a stopped node out of the cluster for good. */
    public static final class Remove extends ConfiguredCommand<SentinelConfiguration> {
        public Remove() {
            super("remove", "Take a node out of the cluster for good (stop its sentinel and PostgreSQL first)");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("node").help("the node to remove");
            subparser.addArgument("--wait").dest("wait").setDefault("60").help("seconds to wait for the outcome");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                String node = n.getString("node");
                long waitSeconds;
                try {
                    waitSeconds = Long.parseLong(n.getString("wait"));
                } catch (NumberFormatException e) {
                    throw new CliFailure(1, "--wait must be a number of seconds");
                }
                try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                    Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
                    var verdict = io.pgsentinel.sentinel.decision.RemoveCheck.check(t, reader.cache.nodes(),
                            reader.cache.members(), node);
                    if (verdict.kind() == io.pgsentinel.sentinel.decision.RemoveCheck.Kind.REFUSE) {
                        throw new CliFailure(EXIT_REFUSED, "remove refused: " + verdict.reason());
                    }
                    var r = new OperatorRequests(reader.session, Duration.ofSeconds(5)).requestRemoval(node, "cli");
                    if (!r.created()) {
                        throw new CliFailure(EXIT_REFUSED, "remove refused: one is already requested for " + node);
                    }
                    System.out.println("Removal of " + node + " requested (" + r.id() + "); waiting for the leader...");
                    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
                    while (!reader.cache.document("remove/" + node).isPresent() && System.nanoTime() < deadline) {
                        Thread.sleep(50); // our own copy of ZooKeeper must first see the request we wrote
                    }
                    while (System.nanoTime() < deadline) {
                        boolean pending = reader.cache.document("remove/" + node).isPresent();
                        boolean registered = reader.cache.nodes().containsKey(node);
                        if (!registered) {
                            System.out.println("Done: " + node + " is out of the cluster (" + reader.cache.nodes().size()
                                    + " nodes remain).");
                            return 0;
                        }
                        if (!pending) {
                            throw new CliFailure(EXIT_FAILED, "the leader refused to remove " + node + ": see its log");
                        }
                        Thread.sleep(200);
                    }
                    throw new CliFailure(EXIT_FAILED, "no outcome within " + waitSeconds + " s (the request stays "
                            + "pending: see `status`)");
                }
            });
        }
    }
}
