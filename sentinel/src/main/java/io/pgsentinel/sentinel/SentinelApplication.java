package io.pgsentinel.sentinel;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.health.HealthCheck;
import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.pgsentinel.sentinel.cli.ControlCommands;
import io.pgsentinel.sentinel.cli.DemoCommand;
import io.pgsentinel.sentinel.cli.HistoryCommand;
import io.pgsentinel.sentinel.cli.StatusCommand;
import io.pgsentinel.sentinel.config.Secrets;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.http.ApiAuth;
import io.pgsentinel.sentinel.http.AuthFilters;
import io.pgsentinel.sentinel.http.ClusterResource;
import io.pgsentinel.sentinel.http.ConfigResource;
import io.pgsentinel.sentinel.http.ControlResource;
import io.pgsentinel.sentinel.http.FailsafeResource;
import io.pgsentinel.sentinel.http.HealthResource;
import io.pgsentinel.sentinel.http.HistoryResource;
import io.pgsentinel.sentinel.http.PrometheusEndpoint;
import io.pgsentinel.sentinel.loop.SentinelView;
import io.pgsentinel.sentinel.http.TopologyResource;
import io.pgsentinel.sentinel.loop.Sentinel;
import io.pgsentinel.sentinel.zk.EmbeddedZooKeeper;
import io.pgsentinel.sentinel.zk.OperatorRequests;

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
        bootstrap.addCommand(new StatusCommand());
        bootstrap.addCommand(new HistoryCommand());
        bootstrap.addCommand(new DemoCommand());
        bootstrap.addCommand(new ControlCommands.Pause());
        bootstrap.addCommand(new ControlCommands.Resume());
        bootstrap.addCommand(new ControlCommands.Switchover());
        bootstrap.addCommand(new ControlCommands.Reinit());
        bootstrap.addCommand(new ControlCommands.Remove());
        bootstrap.addCommand(new ControlCommands.Restart());
        bootstrap.addCommand(new ControlCommands.Reload());
        bootstrap.addCommand(new io.pgsentinel.sentinel.cli.ConfigCommands.Show());
        bootstrap.addCommand(new io.pgsentinel.sentinel.cli.ConfigCommands.Edit());
    }

    @Override
    public void run(SentinelConfiguration c, Environment env) throws Exception {
        if (c.zookeeper.embedded) {
            env.lifecycle().manage(new EmbeddedZooKeeper(c.zookeeper.connect, c.zookeeper.embeddedDataDirectory));
        }
        Sentinel sentinel = Sentinel.build(c, Secrets.read(c.postgres.passwordFile), Secrets.read(c.replication.passwordFile),
                Secrets.read(c.api.tokenFile), env.metrics());
        sentinel.managed().forEach(env.lifecycle()::manage);

        SentinelView view = sentinel.view();
        env.jersey().register(new TopologyResource(view));
        env.jersey().register(new ClusterResource(view));
        env.jersey().register(new HealthResource(view));
        env.jersey().register(new HistoryResource(view));
        env.jersey().register(new io.pgsentinel.sentinel.http.StatusPageResource());
        io.pgsentinel.sentinel.http.EventsResource events = new io.pgsentinel.sentinel.http.EventsResource(view.cache(),
                c.api.maxEventSubscribers, c.api.eventHeartbeat.toJavaDuration());
        env.lifecycle().manage(events);
        env.jersey().register(events);
        ApiAuth auth = new ApiAuth(Secrets.read(c.api.tokenFile));
        env.jersey().register(new ControlResource(view, new OperatorRequests(view.session(),
                c.zookeeper.sessionTimeout.toJavaDuration()), c.api.maxBodyBytes));
        env.jersey().register(new FailsafeResource(view, sentinel.leases()));
        env.jersey().register(new ConfigResource(view, sentinel.settingsEditor(), c.api.maxBodyBytes));
        env.jersey().register(new AuthFilters.MutatingFilter(auth));
        if (c.api.readRequiresAuth) {
            env.jersey().register(new AuthFilters.ReadFilter(auth));
        }

        env.healthChecks().register("zookeeper", new HealthCheck() {
            @Override
            protected Result check() {
                return view.session().isConnected() ? Result.healthy("connected, session timeout %d ms",
                        view.session().negotiatedSessionTimeoutMillis())
                        : Result.unhealthy("not connected: " + view.session().state());
            }
        });
        env.healthChecks().register("postgres", new HealthCheck() {
            @Override
            protected Result check() {
                var r = view.local();
                return r != null && r.running() ? Result.healthy("%s on timeline %d", r.role().json(), r.timeline())
                        : Result.unhealthy(r == null ? "not probed yet" : "not reachable: " + r.error());
            }
        });
        env.metrics().register("pgsentinel.leader", (Gauge<Integer>) () -> view.leadership().isLeader() ? 1 : 0);
        env.metrics().register("pgsentinel.zookeeper.connected", (Gauge<Integer>) () -> view.session().isConnected() ? 1 : 0);
        env.metrics().register("pgsentinel.writes.reports", (Gauge<Long>) view.observer()::reportWrites);
        env.metrics().register("pgsentinel.writes.votes", (Gauge<Long>) view.observer()::voteWrites);
        env.metrics().register("pgsentinel.writes.topology", (Gauge<Long>) view.leaderDuties()::publications);
        env.metrics().register("pgsentinel.failovers", (Gauge<Long>) view.leaderDuties()::failovers);
        env.metrics().register("pgsentinel.zookeeper.session_timeout_ms",
                (Gauge<Long>) view.session()::negotiatedSessionTimeoutMillis);
        env.metrics().register("pgsentinel.replication.lag_bytes", (Gauge<Long>) () -> {
            var r = view.local();
            return r == null ? -1L : HealthResource.lagBytes(view, r) == null ? -1L : HealthResource.lagBytes(view, r);
        });
        env.metrics().register("pgsentinel.topology.epoch", (Gauge<Long>) () ->
                view.cache().topology().map(t -> t.topology().epoch()).orElse(0L));
        env.metrics().register("pgsentinel.topology.has_primary", (Gauge<Integer>) () ->
                view.cache().members().values().stream().anyMatch(m -> m.running()
                        && m.role() == io.pgsentinel.sentinel.model.Role.PRIMARY
                        && view.cache().topology().map(t -> t.topology().primary().id().equals(m.id())).orElse(false))
                        ? 1 : 0);
        PrometheusEndpoint.register(env);
    }
}
