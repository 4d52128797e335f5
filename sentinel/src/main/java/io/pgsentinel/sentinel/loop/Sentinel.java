package io.pgsentinel.sentinel.loop;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.decision.Policy;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.postgres.Jdbc;
import io.pgsentinel.sentinel.postgres.LocalProbe;
import io.pgsentinel.sentinel.postgres.PeerProbe;
import io.pgsentinel.sentinel.postgres.PgParameters;
import io.pgsentinel.sentinel.postgres.PgControl;
import io.pgsentinel.sentinel.postgres.RemoteAdmin;
import io.pgsentinel.sentinel.postgres.Replication;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.sentinel.zk.Registry;
import io.pgsentinel.sentinel.zk.SettingsStore;
import io.pgsentinel.sentinel.zk.Standing;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.zk.ClusterPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The parts of one sentinel, built from its configuration, in the order they start. */
public record Sentinel(FailsafeLeases leases, List<Managed> managed, SentinelView view, SettingsEditor settingsEditor) {

    /**
     * The peers the guard watches: every other registered node, by its PostgreSQL server and its
     * sentinel's API; a failover needs a quorum of them to see the primary down, so reaching more
     * than (peers - quorum) of them rules one out.
     */
    static SelfFence.Peers guardedPeers(String self, ClusterCache cache, Policy policy) {
        java.util.Map<String, RegisteredNode> nodes = cache.nodes();
        List<List<String>> endpoints = new java.util.ArrayList<>();
        nodes.values().stream().filter(n -> !n.id().equals(self)).sorted(java.util.Comparator.comparing(RegisteredNode::id))
                .forEach(n -> {
                    List<String> each = new java.util.ArrayList<>(List.of(n.host() + ":" + n.port()));
                    try {
                        java.net.URI api = java.net.URI.create(n.apiUrl());
                        if (api.getHost() != null && api.getPort() > 0) {
                            each.add(api.getHost() + ":" + api.getPort());
                        }
                    } catch (IllegalArgumentException e) {
                        // no usable API address: the server's alone
                    }
                    endpoints.add(List.copyOf(each));
                });
        // at most 0 needed: no failover is possible without this node's sentinel (a single node, say)
        return new SelfFence.Peers(endpoints.size() - policy.quorum(nodes.size()) + 1, endpoints);
    }

    public static Sentinel build(SentinelConfiguration c, Optional<String> password, Optional<String> replicationPassword,
                                 Optional<String> apiToken, com.codahale.metrics.MetricRegistry registry) {
        SentinelMetrics metrics = new SentinelMetrics(registry);
        MonotonicClock clock = MonotonicClock.SYSTEM;
        ClusterPaths paths = new ClusterPaths(c.zookeeper.root, c.cluster);
        Duration checkInterval = c.failureDetection.checkInterval.toJavaDuration();
        Duration checkTimeout = c.failureDetection.checkTimeout.toJavaDuration();
        Duration zkTimeout = c.zookeeper.sessionTimeout.toJavaDuration().dividedBy(2);

        ZkSession session = new ZkSession(c.zookeeper.connect, c.zookeeper.sessionTimeout.toJavaDuration(), paths, clock,
                c.zookeeper.readAuth());
        ClusterCache cache = new ClusterCache(session, clock);
        Leadership leadership = new Leadership(session, c.node.id, clock);

        Jdbc jdbc = new Jdbc(c.postgres.user, password, c.postgres.database, c.postgres.sslMode, c.postgres.sslRootCert);
        Replication replication = new Replication(c.replication.user, replicationPassword, c.postgres.sslMode,
                c.postgres.sslRootCert);
        PgControl control = new PgControl(Path.of(c.postgres.binDirectory), Path.of(c.postgres.dataDirectory),
                c.node.host, c.postgres.port, c.postgres.startCommand, c.postgres.stopCommand, jdbc, replication);
        control.cloneCommand(c.replication.cloneCommand);
        RemoteAdmin admin = new RemoteAdmin(jdbc);
        RegisteredNode self = new RegisteredNode(c.node.id, c.node.host, c.postgres.port, c.node.tags.priority,
                c.node.tags.nofailover, c.apiUrl()).withTags(c.node.tags.nosync, c.node.tags.noloadbalance)
                .withReplicateFrom(c.node.tags.replicatefrom == null ? "" : c.node.tags.replicatefrom)
                .withCloneFrom(c.node.tags.clonefrom);
        LocalProbe probe = new LocalProbe(jdbc, c.node.id, c.node.host, c.postgres.port,
                () -> control.isRunning() ? Optional.empty() : control.controlData());
        FailsafeLeases leases = new FailsafeLeases(clock);
        Observer observer = new Observer(self, probe,
                new PeerProbe(jdbc), new Registry(session, cache, c.node.id, zkTimeout), cache, session, clock,
                checkTimeout, Duration.ofSeconds(1), checkInterval, metrics, c.fencing.selfFenceTimeout.toJavaDuration(),
                leases);
        Standing standing = new Standing(session, c.node.id);
        SettingsStore settingsStore = new SettingsStore(session, zkTimeout);
        PgParameters parameters = new PgParameters(jdbc);
        EffectiveSettings settings = new EffectiveSettings(c.node.id, ClusterSettings.seed(c), cache, settingsStore);
        java.util.function.Supplier<Policy> policy = settings::policy;
        Duration selfFenceBudget = c.fencing.selfFenceTimeout.toJavaDuration();
        GuardLink guard = c.fencing.guardEnabled() ? new GuardLink(Path.of(c.postgres.dataDirectory),
                Path.of(c.postgres.binDirectory), c.postgres.stopCommand, selfFenceBudget) : null;
        SelfFence selfFence = new SelfFence(c.node.id, control, session, standing, observer::latest, clock,
                selfFenceBudget, metrics, guard, () -> guardedPeers(c.node.id, cache, policy.get()));
        observer.guarded(selfFence::guarded);
        selfFence.switchoverTimeout(c.failover.switchoverTimeout.toJavaDuration());
        selfFence.publishedPrimary(() -> cache.topology().map(t -> t.topology().primary().id().equals(c.node.id))
                .orElse(false));
        if (c.fencing.selfFence.equals("readonly")) {
            org.slf4j.LoggerFactory.getLogger(Sentinel.class).warn("fencing.selfFence: readonly fences by a stop: a "
                    + "read-only server still commits BEGIN READ WRITE, so it is no fence");
        }
        Reconciler reconciler = new Reconciler(c.node.id, control, admin, cache, session, selfFence, clock,
                c.rejoin.equals("manual"), observer::sees);
        if (c.bootstrap.initdb()) {
            reconciler.bootstrap(new Reconciler.Bootstrap(new PgControl.InitdbSpec(c.postgres.user,
                    c.postgres.passwordFile.isEmpty() ? Optional.empty() : Optional.of(Path.of(c.postgres.passwordFile)),
                    c.bootstrap.initdbOptions, c.bootstrap.parameters, c.bootstrap.pgHba), c.replication.user,
                    replicationPassword));
        }
        LeaderWrites writes = new LeaderWrites(session, zkTimeout);
        FailoverExecutor failover = new FailoverExecutor(session, cache, writes, admin, clock, policy, c.fencing.command,
                c.fencing.commandTimeout.toJavaDuration(), c.failover.fenceConfirmTimeout.toJavaDuration(), metrics,
                c.failover.switchoverTimeout.toJavaDuration());
        LeaderDuties leaderDuties = new LeaderDuties(c.node.id, c.cluster, session, cache, writes, clock, policy, failover,
                metrics);
        leaderDuties.leases(leases);
        leaderDuties.probedWritable(observer::probedWritable);
        leaderDuties.admin(admin);
        if (c.failsafeEnabled()) {
            selfFence.failsafe(new FailsafeClient(c.node.id, cache, apiToken, () -> settings.current().fixedQuorum()));
        }
        leaderDuties.synchronous(new SyncManager(cache, writes, admin, settings::current));
        SentinelLoop loop = new SentinelLoop(observer, reconciler, leaderDuties, leadership, cache, checkInterval);
        loop.settings(settings, new ParameterApplier(parameters, c.node.host, c.postgres.port,
                settings::current, cache, clock), new SlotKeeper(c.node.id, admin, c.node.host, c.postgres.port,
                settings::current, cache, clock));
        io.pgsentinel.sentinel.hooks.Hooks hooks = new io.pgsentinel.sentinel.hooks.Hooks(c.hooks, c.cluster, c.node.id,
                registry);
        Runnable tellHooks = () -> {
            var latest = observer.latest();
            var published = cache.topology().map(ClusterCache.VersionedTopology::topology);
            hooks.observed(control.isRunning(), latest == null ? io.pgsentinel.sentinel.model.Role.UNKNOWN : latest.role(),
                    published.map(t -> t.primary().id()).orElse(null), published.map(t -> t.epoch()).orElse(0L));
        };
        loop.afterCycle(tellHooks);
        selfFence.afterStop(tellHooks);
        failover.onPublished(hooks::failoverPublished);

        SentinelView view = new SentinelView(c.node.id, c.cluster, observer, cache, leadership, leaderDuties, session,
                reconciler, loop, settings);
        SettingsEditor editor = new SettingsEditor(settingsStore, cache, parameters, checkInterval.toMillis(),
                checkTimeout.toMillis());
        return new Sentinel(leases, List.of(hooks, session, cache, new io.pgsentinel.sentinel.zk.IdentityGuard(cache, session, self),
                leadership, selfFence, loop), view, editor);
    }
}
