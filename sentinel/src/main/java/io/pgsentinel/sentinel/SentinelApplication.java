package io.pgsentinel.sentinel;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.health.HealthCheck;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.config.Secrets;
import io.pgsentinel.sentinel.decision.Policy;
import io.pgsentinel.sentinel.http.ClusterResource;
import io.pgsentinel.sentinel.http.HealthResource;
import io.pgsentinel.sentinel.http.SentinelView;
import io.pgsentinel.sentinel.http.TopologyResource;
import io.pgsentinel.sentinel.loop.LeaderDuties;
import io.pgsentinel.sentinel.loop.Observer;
import io.pgsentinel.sentinel.loop.SentinelLoop;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.postgres.Jdbc;
import io.pgsentinel.sentinel.postgres.LocalProbe;
import io.pgsentinel.sentinel.postgres.PeerProbe;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.EmbeddedZooKeeper;
import io.pgsentinel.sentinel.zk.LeaderWrites;
import io.pgsentinel.sentinel.zk.Leadership;
import io.pgsentinel.sentinel.zk.Registry;
import io.pgsentinel.sentinel.zk.ZkSession;
import io.pgsentinel.shared.zk.ClusterPaths;
import java.time.Duration;

/**
 * The sentinel daemon: {@code server config.yml} runs it, {@code check config.yml} validates the
 * configuration. This class only wires the parts together.
 */
public final class SentinelApplication extends Application<SentinelConfiguration> {

    public static void main(String[] args) throws Exception {
        new SentinelApplication().run(args);
    }

    @Override
    public String getName() {
        return "pg-sentinel";
    }

    @Override
    public void initialize(Bootstrap<SentinelConfiguration> bootstrap) {
        // commands are added by the CLI
    }

    @Override
    public void run(SentinelConfiguration c, Environment env) throws Exception {
        MonotonicClock clock = MonotonicClock.SYSTEM;
        ClusterPaths paths = new ClusterPaths(c.zookeeper.root, c.cluster);
        Duration checkInterval = c.failureDetection.checkInterval.toJavaDuration();
        Duration checkTimeout = c.failureDetection.checkTimeout.toJavaDuration();
        Duration zkTimeout = c.zookeeper.sessionTimeout.toJavaDuration().dividedBy(2);

        if (c.zookeeper.embedded) {
            env.lifecycle().manage(new EmbeddedZooKeeper(c.zookeeper.connect, c.zookeeper.embeddedDataDirectory));
        }
        ZkSession session = new ZkSession(c.zookeeper.connect, c.zookeeper.sessionTimeout.toJavaDuration(), paths, clock);
        env.lifecycle().manage(session);
        ClusterCache cache = new ClusterCache(session, clock);
        env.lifecycle().manage(cache);
        Leadership leadership = new Leadership(session, c.node.id, clock);
        env.lifecycle().manage(leadership);

        Jdbc jdbc = new Jdbc(c.postgres.user, Secrets.read(c.postgres.passwordFile), c.postgres.database,
                c.postgres.sslMode, c.postgres.sslRootCert);
        RegisteredNode self = new RegisteredNode(c.node.id, c.node.host, c.postgres.port, c.node.tags.priority,
                c.node.tags.nofailover, c.apiUrl());
        Observer observer = new Observer(self, new LocalProbe(jdbc, c.node.id, c.node.host, c.postgres.port),
                new PeerProbe(jdbc), new Registry(session, cache, c.node.id, zkTimeout), cache, session, clock,
                checkTimeout, Duration.ofSeconds(1), checkInterval);
        Policy policy = new Policy(c.failureDetection.downAfter.toMilliseconds(), c.failureDetection.fixedQuorum(),
                c.replication.maxLagOnFailover.toBytes(), 5000, 0);
        LeaderDuties leaderDuties = new LeaderDuties(c.node.id, c.cluster, cache, new LeaderWrites(session, zkTimeout),
                clock, policy, paths.decision());
        env.lifecycle().manage(new SentinelLoop(observer, leaderDuties, leadership, cache, checkInterval));

        SentinelView view = new SentinelView(c.node.id, c.cluster, observer, cache, leadership, leaderDuties, session);
        env.jersey().register(new TopologyResource(view));
        env.jersey().register(new ClusterResource(view));
        env.jersey().register(new HealthResource(view));

        env.healthChecks().register("zookeeper", new HealthCheck() {
            @Override
            protected Result check() {
                return session.isConnected() ? Result.healthy("connected, session timeout %d ms",
                        session.negotiatedSessionTimeoutMillis()) : Result.unhealthy("not connected: " + session.state());
            }
        });
        env.healthChecks().register("postgres", new HealthCheck() {
            @Override
            protected Result check() {
                var r = observer.latest();
                return r != null && r.running() ? Result.healthy("%s on timeline %d", r.role().json(), r.timeline())
                        : Result.unhealthy(r == null ? "not probed yet" : "not reachable: " + r.error());
            }
        });
        env.metrics().register("pgsentinel.leader", (Gauge<Integer>) () -> leadership.isLeader() ? 1 : 0);
        env.metrics().register("pgsentinel.zookeeper.connected", (Gauge<Integer>) () -> session.isConnected() ? 1 : 0);
        env.metrics().register("pgsentinel.writes.reports", (Gauge<Long>) observer::reportWrites);
        env.metrics().register("pgsentinel.writes.votes", (Gauge<Long>) observer::voteWrites);
        env.metrics().register("pgsentinel.writes.topology", (Gauge<Long>) leaderDuties::publications);
    }
}
