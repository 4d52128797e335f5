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
                long waitSeconds = seconds(n.getString("wait"));
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
                    reader.awaitSeen("switchover", deadline,
                            () -> reader.cache.topology().map(x -> x.topology().epoch()).orElse(0L) != t.epoch());
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

    /**
     * A request about one node written to ZooKeeper ({@code reinit/<id>}, {@code remove/<id>}),
     * then followed until its outcome: checked first with the pure check the API uses too.
     */
    private abstract static class NodeRequestCommand extends ConfiguredCommand<SentinelConfiguration> {
        private final String verb;
        private final String nodeHelp;
        private final String defaultWait;

        NodeRequestCommand(String name, String description, String verb, String nodeHelp, String defaultWait) {
            super(name, description);
            this.verb = verb;
            this.nodeHelp = nodeHelp;
            this.defaultWait = defaultWait;
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("node").help(nodeHelp);
            subparser.addArgument("--wait").dest("wait").setDefault(defaultWait).help("seconds to wait for the outcome");
        }

        /** Why the request is refused now, or null. */
        abstract String refusal(ClusterReader reader, String node);

        abstract OperatorRequests.Requested request(OperatorRequests requests, String node) throws Exception;

        /** Follows the request until {@code deadline}; returns the exit code or throws a failure. */
        abstract int follow(ClusterReader reader, String node, long deadline) throws Exception;

        /** The request's node below the cluster ("reinit/node2"). */
        abstract String document(String node);

        /**
         * Whether the request's outcome is already visible: a fast leader may answer (delete the
         * request) before this client's cache ever saw it, and the wait for it must not last.
         */
        boolean done(ClusterReader reader, String node) {
            return false;
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                String node = n.getString("node");
                long waitSeconds = seconds(n.getString("wait"));
                try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                    String refusal = refusal(reader, node);
                    if (refusal != null) {
                        throw new CliFailure(EXIT_REFUSED, getName() + " refused: " + refusal);
                    }
                    var r = request(new OperatorRequests(reader.session, Duration.ofSeconds(5)), node);
                    if (!r.created()) {
                        throw new CliFailure(EXIT_REFUSED, getName() + " refused: one is already requested for " + node);
                    }
                    System.out.println(verb + " of " + node + " requested (" + r.id() + "); waiting for it...");
                    long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
                    reader.awaitSeen(document(node), deadline, () -> done(reader, node));
                    int exit = follow(reader, node, deadline);
                    if (exit >= 0) {
                        return exit;
                    }
                    throw new CliFailure(EXIT_FAILED, "no outcome within " + waitSeconds + " s: see `status` and the "
                            + "sentinels' logs (the request stays pending)");
                }
            });
        }
    }

    /** {@code reinit config.yml NODE [--wait 600]}: re-clones one replica and follows it until it streams again. */
    public static final class Reinit extends NodeRequestCommand {
        public Reinit() {
            super("reinit", "Re-clone one replica from the primary (its old data directory is kept once)", "Reinit",
                    "the replica to re-clone", "600");
        }

        @Override
        String refusal(ClusterReader reader, String node) {
            Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
            var refusal = io.pgsentinel.sentinel.decision.ReinitCheck.check(t, reader.cache.nodes(), node,
                    reader.cache.document(document(node)).isPresent());
            return refusal == null ? null : refusal.reason();
        }

        @Override
        OperatorRequests.Requested request(OperatorRequests requests, String node) throws Exception {
            return requests.requestReinit(node, "cli");
        }

        @Override
        String document(String node) {
            return "reinit/" + node;
        }

        @Override
        int follow(ClusterReader reader, String node, long deadline) throws Exception {
            String shown = "";
            while (System.nanoTime() < deadline) {
                var report = reader.cache.members().get(node);
                String doing = report == null ? "its sentinel is not running" : report.state();
                if (!doing.equals(shown)) {
                    System.out.println(node + ": " + doing);
                    shown = doing;
                }
                boolean pending = reader.cache.document(document(node)).isPresent();
                boolean streaming = reader.cache.topology().flatMap(v -> v.topology().replica(node))
                        .map(x -> x.state().json().equals("streaming")).orElse(false);
                if (!pending && streaming && report != null && "ok".equals(report.state()) && report.isStreaming()) {
                    System.out.println("Done: " + node + " is a fresh clone, streaming.");
                    return 0;
                }
                Thread.sleep(200);
            }
            return -1;
        }
    }

    /** {@code remove config.yml NODE [--wait 60]}: takes a stopped node out of the cluster for good. */
    public static final class Remove extends NodeRequestCommand {
        public Remove() {
            super("remove", "Take a node out of the cluster for good (stop its sentinel and PostgreSQL first)", "Removal",
                    "the node to remove", "60");
        }

        @Override
        String refusal(ClusterReader reader, String node) {
            Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
            var verdict = io.pgsentinel.sentinel.decision.RemoveCheck.check(t, reader.cache.nodes(), reader.cache.members(),
                    node);
            return verdict.kind() == io.pgsentinel.sentinel.decision.RemoveCheck.Kind.REFUSE ? verdict.reason() : null;
        }

        @Override
        OperatorRequests.Requested request(OperatorRequests requests, String node) throws Exception {
            return requests.requestRemoval(node, "cli");
        }

        @Override
        String document(String node) {
            return "remove/" + node;
        }

        @Override
        boolean done(ClusterReader reader, String node) {
            return !reader.cache.nodes().containsKey(node);
        }

        @Override
        int follow(ClusterReader reader, String node, long deadline) throws Exception {
            while (System.nanoTime() < deadline) {
                boolean pending = reader.cache.document(document(node)).isPresent();
                if (!reader.cache.nodes().containsKey(node)) {
                    System.out.println("Done: " + node + " is out of the cluster (" + reader.cache.nodes().size()
                            + " nodes remain).");
                    return 0;
                }
                if (!pending) {
                    throw new CliFailure(EXIT_FAILED, "the leader refused to remove " + node + ": see its log");
                }
                Thread.sleep(200);
            }
            return -1;
        }
    }

    /**
     * {@code restart config.yml [--member NODE | --all] [--pending] [--in-place] [--wait 300]}: a
     * rolling restart, replicas first, one at a time, each streaming again before the next, the
     * primary last by a switchover (or in place); never two members down at once.
     */
    public static final class Restart extends ConfiguredCommand<SentinelConfiguration> {
        public Restart() {
            super("restart", "Rolling restart: replicas one at a time, then the primary by a switchover");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("--member").dest("member").help("restart this member only");
            subparser.addArgument("--all").dest("all").action(net.sourceforge.argparse4j.impl.Arguments.storeTrue())
                    .help("restart every member");
            subparser.addArgument("--pending").dest("pending").action(net.sourceforge.argparse4j.impl.Arguments.storeTrue())
                    .help("only members whose settings wait for a restart (pg_settings.pending_restart)");
            subparser.addArgument("--in-place").dest("inPlace").action(net.sourceforge.argparse4j.impl.Arguments.storeTrue())
                    .help("restart the primary where it is (a short outage) instead of switching over");
            subparser.addArgument("--wait").dest("wait").setDefault("300").help("seconds to wait for each member");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                String member = n.getString("member");
                boolean all = Boolean.TRUE.equals(n.getBoolean("all"));
                boolean pending = Boolean.TRUE.equals(n.getBoolean("pending"));
                boolean inPlace = Boolean.TRUE.equals(n.getBoolean("inPlace"));
                if ((member == null) == !all) {
                    throw new CliFailure(1, "restart needs either --member NODE or --all");
                }
                Duration each = Duration.ofSeconds(seconds(n.getString("wait")));
                try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                    Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
                    if (t == null) {
                        throw new CliFailure(EXIT_REFUSED, "restart refused: no topology is published yet");
                    }
                    java.util.List<String> targets = new java.util.ArrayList<>(member != null ? java.util.List.of(member)
                            : reader.cache.nodes().keySet().stream().sorted().toList());
                    for (String target : targets) {
                        if (!reader.cache.nodes().containsKey(target)) {
                            throw new CliFailure(EXIT_REFUSED, "restart refused: unknown member '" + target + "'");
                        }
                    }
                    if (pending) {
                        targets.removeIf(x -> {
                            var r = reader.cache.members().get(x);
                            return r == null || !r.pendingRestart();
                        });
                        if (targets.isEmpty()) {
                            System.out.println("Nothing to restart: no member has a setting waiting for a restart.");
                            return 0;
                        }
                    }
                    String primary = t.primary().id();
                    // replicas first, the primary last
                    targets.sort(java.util.Comparator.comparing((String x) -> x.equals(primary)).thenComparing(x -> x));
                    System.out.println("Rolling restart of " + String.join(", ", targets) + ", one at a time.");
                    for (String target : targets) {
                        awaitHealthy(reader, each);
                        long start = System.nanoTime();
                        Topology now = reader.cache.topology().map(v -> v.topology()).orElseThrow();
                        if (target.equals(now.primary().id()) && !inPlace) {
                            switchOverFrom(reader, target, each);
                        } else {
                            restartOne(reader, target, target.equals(now.primary().id()), each);
                        }
                        System.out.printf("%s: restarted, %s again after %.1f s%n", target,
                                target.equals(reader.cache.topology().map(v -> v.topology().primary().id()).orElse(""))
                                        ? "the primary" : "streaming", (System.nanoTime() - start) / 1e9);
                    }
                    awaitHealthy(reader, each);
                    System.out.println("Done: " + targets.size() + " member(s) restarted, the cluster is healthy.");
                    return 0;
                }
            });
        }

        /** Every member up: the primary running, every replica streaming, every sentinel reporting. */
        private static void awaitHealthy(ClusterReader reader, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            String last = "";
            while (System.nanoTime() < deadline) {
                Topology t = reader.cache.topology().map(v -> v.topology()).orElse(null);
                var reports = reader.cache.members();
                if (t != null) {
                    var pr = reports.get(t.primary().id());
                    boolean primaryUp = pr != null && pr.running() && pr.role() == io.pgsentinel.sentinel.model.Role.PRIMARY;
                    boolean replicasUp = t.replicas().stream().allMatch(r -> r.state().json().equals("streaming"))
                            && reader.cache.nodes().keySet().stream().allMatch(reports::containsKey);
                    if (primaryUp && replicasUp && reader.cache.documentsUnder("restart/").isEmpty()) {
                        return;
                    }
                    last = "primary " + t.primary().id() + (primaryUp ? " up" : " not running") + "; " + t.replicas()
                            .stream().map(r -> r.id() + " " + r.state().json())
                            .collect(java.util.stream.Collectors.joining(", "));
                }
                Thread.sleep(200);
            }
            throw new CliFailure(EXIT_FAILED, "stopped: the cluster is not healthy, and a restart would take a second "
                    + "member down (" + last + ")");
        }

        private static void restartOne(ClusterReader reader, String target, boolean isPrimary, Duration timeout)
                throws Exception {
            var r = new OperatorRequests(reader.session, Duration.ofSeconds(5)).requestRestart(target, "cli");
            if (!r.created()) {
                throw new CliFailure(EXIT_REFUSED, "a restart of " + target + " is already requested");
            }
            System.out.println(target + ": restarting" + (isPrimary ? " in place (writes pause meanwhile)" : ""));
            long deadline = System.nanoTime() + timeout.toNanos();
            reader.awaitSeen("restart/" + target, deadline, () -> false);
            while (System.nanoTime() < deadline) {
                var report = reader.cache.members().get(target);
                boolean done = !reader.cache.document("restart/" + target).isPresent() && report != null
                        && "ok".equals(report.state()) && report.running()
                        && (isPrimary ? report.role() == io.pgsentinel.sentinel.model.Role.PRIMARY : report.isStreaming());
                if (done) {
                    return;
                }
                Thread.sleep(200);
            }
            throw new CliFailure(EXIT_FAILED, target + " did not come back within " + timeout.toSeconds()
                    + " s: see its sentinel's log");
        }

        private static void switchOverFrom(ClusterReader reader, String primary, Duration timeout) throws Exception {
            Topology t = reader.cache.topology().map(v -> v.topology()).orElseThrow();
            SwitchoverCheck.Verdict v = SwitchoverCheck.check(t, reader.cache.nodes(), reader.cache.members(), null,
                    reader.cache.document("switchover").isPresent(), false);
            if (!v.accepted()) {
                throw new CliFailure(EXIT_REFUSED, "the primary " + primary + " cannot be switched over: " + v.refusal()
                        + " (--in-place restarts it where it is)");
            }
            var r = new OperatorRequests(reader.session, Duration.ofSeconds(5)).requestSwitchover(v.candidate(), "cli restart");
            if (!r.created()) {
                throw new CliFailure(EXIT_REFUSED, "a switchover is already requested or running");
            }
            System.out.println(primary + ": the primary, switching over to " + v.candidate()
                    + " (it restarts as a replica)");
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                Topology now = reader.cache.topology().map(x -> x.topology()).orElse(null);
                var report = reader.cache.members().get(primary);
                if (now != null && now.epoch() > t.epoch() && !now.primary().id().equals(primary) && report != null
                        && "ok".equals(report.state()) && report.isStreaming()) {
                    return;
                }
                Thread.sleep(200);
            }
            throw new CliFailure(EXIT_FAILED, "the switchover away from " + primary + " did not finish within "
                    + timeout.toSeconds() + " s: see `status`");
        }
    }

    /** {@code reload config.yml [--member NODE]}: every member (or one) reads its configuration files again. */
    public static final class Reload extends ConfiguredCommand<SentinelConfiguration> {
        public Reload() {
            super("reload", "Reload the configuration of every member's server (pg_reload_conf), or of one");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("--member").dest("member").help("reload this member only");
            subparser.addArgument("--wait").dest("wait").setDefault("30").help("seconds to wait for the members");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                String member = n.getString("member");
                long deadline = System.nanoTime() + Duration.ofSeconds(seconds(n.getString("wait"))).toNanos();
                try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                    java.util.List<String> targets = member != null ? java.util.List.of(member)
                            : reader.cache.members().keySet().stream().sorted().toList();
                    if (member != null && !reader.cache.members().containsKey(member)) {
                        throw new CliFailure(EXIT_REFUSED, "reload refused: " + member + " has no running sentinel");
                    }
                    var requests = new OperatorRequests(reader.session, Duration.ofSeconds(5));
                    for (String target : targets) {
                        requests.requestReload(target, "cli");
                    }
                    // read from ZooKeeper itself: our cache may never see a request answered at once
                    java.util.List<String> left = new java.util.ArrayList<>(targets);
                    while (!left.isEmpty() && System.nanoTime() < deadline) {
                        java.util.List<String> answered = new java.util.ArrayList<>();
                        for (String x : left) {
                            var e = reader.session.await(cb -> reader.session.client().checkExists().inBackground(cb)
                                    .forPath(reader.session.paths().reload(x)), Duration.ofSeconds(5));
                            if (e.getStat() == null) {
                                answered.add(x);
                            }
                        }
                        left.removeAll(answered);
                        if (!left.isEmpty()) {
                            Thread.sleep(100);
                        }
                    }
                    if (!left.isEmpty()) {
                        throw new CliFailure(EXIT_FAILED, "no reload by " + String.join(", ", left) + " in time: see "
                                + "their sentinels' logs");
                    }
                    System.out.println("Reloaded: " + String.join(", ", targets) + ".");
                    var pendingNow = reader.cache.members().values().stream().filter(r -> r.pendingRestart())
                            .map(r -> r.id()).sorted().toList();
                    if (!pendingNow.isEmpty()) {
                        System.out.println("Waiting for a restart: " + String.join(", ", pendingNow)
                                + " (pg-sentinel restart --all --pending).");
                    }
                    return 0;
                }
            });
        }
    }

    private static long seconds(String value) throws CliFailure {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new CliFailure(1, "--wait must be a number of seconds");
        }
    }
}
